"""Registered checks: this explicit import list is the whole registry (no discovery)."""
from . import accuracy  # noqa: F401
from . import backends_agree  # noqa: F401
from . import claims  # noqa: F401
from . import icl  # noqa: F401
from . import conformance  # noqa: F401
from . import derivatives  # noqa: F401
from . import edges  # noqa: F401
from . import fused  # noqa: F401
from . import identities  # noqa: F401
from . import lemmas  # noqa: F401
from . import production_vs_reference  # noqa: F401
from . import reference_arb  # noqa: F401
from . import solvers  # noqa: F401
from . import certified  # noqa: F401
