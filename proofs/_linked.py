r"""The identity steps whose index form was linked to them: keyed by the checker's view of the step, not its label.

An entry of :data:`.index_vector.STEPS` or :data:`.index_matrix.STEPS` is keyed by ``(lemma id, label)``, and is
proved for every n and d only for the step it is linked to (:func:`.index_table.link`: instantiated at n = 3,
d = 2 it is the lemma's step, entry by entry). The link costs about 30 s of CPU over the 105 keyed steps even at a
random point, so :func:`.verify` does not redo it; without this table the checker took a key in the tables for a
proof, and a lemma wearing a real lemma's id (``dataclasses.replace(LEMMAS["row_shift"], steps=...)``, or a new
module whose docstring names that id) with a false step at a keyed label — ``e₄(v) = 0`` by Newton's identities,
0 at n = 3 and v_0 v_1 v_2 v_3 at n = 4 — was "proved" by ``verify``, ``attnreg proofs check`` and
``bound_lemmas()``, the index-table row saying FAILED beside it. Here each keyed step is pinned by
:func:`._fixed.digest` of the step as built at n = 3, d = 2 (its label, claim and both expression trees): a step
with another digest has no index form for the checker, so it is refused unless hand-reviewed (:mod:`._fixed`).
The size-free scalar identity of :data:`.index_vector.SIZE_FREE` is pinned too: its reason ("one number t, no
index") is about that step, and a term in ``v0, v1, v2`` (names outside the sized families) that is zero at n = 3
only was accepted under it.

That each digest below is of a step whose link holds is checked by the test suite (the slow tier, exactly:
``tests/test_proofs_index.py``); that every real lemma's steps still have these digests, by every verdict of
the 57 lemmas. Regenerate with :func:`._review_tools.linked_steps` after changing a lemma's steps, and read the
rows it prints.
"""
from __future__ import annotations

LINKED: dict[tuple[str, str], str] = {
    # the size-free scalar of index_vector.SIZE_FREE, pinned too: its reason (one number t) is about this step
    ('softmax_jacobian_half', 'step 3 side 1'): '075abbcefb18b85e',
    ('tensor_trick', 'step 1'): '748d584dd3d65555',
    ('tensor_trick', 'step 2'): '6cf302191150c8b8',
    ('tensor_trick', 'step 3'): '607fc1faa4613180',
    ('tensor_trick', 'step 4'): '7c409f4e1f9e8ca0',
    ('kron_blocks', 'step 2'): '41251caaf63a1048',
    ('kron_blocks', 'step 3'): '6218ed8b4dea79b5',
    ('kron_blocks', 'step 4'): 'e6e836f361a44a69',
    ('kron_blocks', 'step 5'): '8dc4b53e6f217a05',
    ('kron_norm', 'step 2 side 1'): '6616c2a5bfb7934d',
    ('kron_norm', 'step 2 side 2'): '541d99f742d713d2',
    ('u_deriv', 'step 1'): '0bd994f76d824e81',
    ('u_deriv', 'step 2'): 'a82747d7116da591',
    ('u_deriv', 'step 3'): '5899691f50500e30',
    ('alpha_deriv', 'step 1'): '27591c6be630a34d',
    ('alpha_deriv', 'step 2'): '130deca1a66e794a',
    ('alpha_deriv', 'step 3'): 'b34f76b45027ea0b',
    ('f_deriv', 'step 1'): 'd69f493d362607a4',
    ('f_deriv', 'step 2'): '92aa3c15187582f8',
    ('f_deriv', 'step 3'): '53f81b7f6252fbc0',
    ('f_deriv', 'step 4'): '1430ffa7e4f0db9b',
    ('c_deriv', 'step 1'): '9565ce68371c214a',
    ('c_deriv', 'step 2'): '2d05e7b91a266089',
    ('c_deriv', 'step 3'): '8fe96fcbb4e05fc8',
    ('h_deriv', 'step 1'): '7452aa09be5af2ae',
    ('h_deriv', 'step 2'): '34c48bedebc63943',
    ('h_deriv', 'step 3'): 'a3585bc8f6d56ec9',
    ('grad_normalized', 'step 1'): 'dfee1cef8d13c8ca',
    ('grad_normalized', 'step 2'): '025ed81f47b1b672',
    ('grad_normalized', 'step 3'): 'eedb44f3f73be502',
    ('grad_normalized', 'step 4'): '04571634f1b2d76d',
    ('grad_normalized', 'step 5'): '2de13cea3de84653',
    ('grad_rescaled', 'step 1'): '799fe48d8eb70930',
    ('grad_rescaled', 'step 2'): '279c8e7062257eb6',
    ('grad_rescaled', 'step 3'): '98e06fcf37a88312',
    ('grad_rescaled', 'step 4'): '1da07452a4da8651',
    ('hessian_normalized', 'step 1'): '9b29c489cc5c411b',
    ('hessian_normalized', 'step 2'): 'f15a14370f8aba2b',
    ('hessian_normalized', 'step 3'): 'ffe48a89a38a680d',
    ('hessian_normalized', 'step 4'): '1ef3f793bcfa3894',
    ('hessian_rescaled', 'step 1'): 'fb33641cfb2a5e89',
    ('hessian_rescaled', 'step 2'): '98e594ddee6b75b7',
    ('hessian_rescaled', 'step 3'): '435b59686d9396c4',
    ('hessian_rescaled', 'step 4'): '2654f616b0c0a1b5',
    ('matrix_grad_normalized', 'step 3'): '6450b4ad1a69e3d0',
    ('matrix_grad_normalized', 'step 4'): '4c55dfe1fb0b81e7',
    ('matrix_grad_rescaled', 'step 3'): '6450b4ad1a69e3d0',
    ('matrix_grad_rescaled', 'step 4'): '8c6aa069141ebcde',
    ('matrix_hvp', 'step 1'): 'fe7fa26e76521e71',
    ('matrix_hvp', 'step 2'): '6ac8453bbd020c8c',
    ('matrix_hvp', 'step 3'): 'bed5093c5e0f510f',
    ('matrix_hvp', 'step 4'): '1aeb1de6422d404a',
    ('matrix_hvp', 'step 5'): 'eed3924764400da8',
    ('matrix_hvp', 'step 6'): '2ef95703fa247086',
    ('h_alpha_c', 'step 1'): '3d7b17f8d78a5afe',
    ('h_alpha_c', 'step 2'): 'a2d613f68414c19a',
    ('h_alpha_c', 'step 3'): 'ce66ccc7b2856ed4',
    ('rescaled_vs_normalized', 'step 1'): '85ff1119a66b85d3',
    ('rescaled_vs_normalized', 'step 2'): '33c4ef000812af47',
    ('rescaled_vs_normalized', 'step 3'): '349d327b1ee228ae',
    ('rescaled_vs_normalized', 'step 4'): '0dbc7d696a61d55e',
    ('row_shift', 'step 1'): 'b1d434b7d5e1b46d',
    ('row_shift', 'step 2'): '3e939f1a1fa4ebdf',
    ('row_shift', 'step 3'): 'ef9c6b8542115381',
    ('row_shift', 'step 4'): '1ed3570855f717e5',
    ('row_shift', 'step 5'): '9aac5b01efdc0bb4',
    ('row_shift', 'step 6'): '55703c4c6ab89679',
    ('row_shift', 'step 7'): 'e8de2e293e05b57d',
    ('row_shift', 'step 8'): 'ce41cb8ce0db4af0',
    ('xzw_invariance', 'step 8'): '0014259b4a2f0dad',
    ('softmax_jacobian_half', 'step 1 side 1'): 'f76a6a29a2ed1831',
    ('alpha_lipschitz_logits', 'step 1 side 1'): '4bdc059d5a9c1aed',
    ('h_lipschitz_logits', 'step 1 side 1'): '09433f9ac6df2f24',
    ('normalized_grad_lipschitz_logits', 'step 1 side 1'): '677669ef5534b90e',
    ('normalized_grad_lipschitz_logits', 'step 4 side 1'): '8e5778f886fdad35',
    ('rescaled_grad_lipschitz_logits', 'step 1 side 1'): 'f61af3d6550754c7',
    ('rescaled_grad_lipschitz_logits', 'step 9 side 1'): '5bb62c50c5970b6e',
    ('u_lipschitz_x', 'step 2 side 1'): 'c4372178ac7bf608',
    ('u_lipschitz_A', 'step 2 side 1'): '583b2438ad3ed1c7',
    ('alpha_lipschitz_x', 'step 2 side 1'): 'c4372178ac7bf608',
    ('alpha_lipschitz_A', 'step 2 side 1'): '583b2438ad3ed1c7',
    ('f_lipschitz_x', 'step 2 side 1'): 'c4372178ac7bf608',
    ('f_lipschitz_A', 'step 2 side 1'): '583b2438ad3ed1c7',
    ('c_lipschitz_x', 'step 1 side 1'): '8524fc42ea33a7cc',
    ('c_lipschitz_A', 'step 1 side 1'): '4c958191ff8d35c1',
    ('h_lipschitz_x', 'step 2 side 1'): 'c4372178ac7bf608',
    ('h_lipschitz_A', 'step 2 side 1'): '583b2438ad3ed1c7',
    ('grad_lipschitz_normalized', 'step 1 side 1'): 'c3ad53908d62e046',
    ('grad_lipschitz_normalized', 'step 3 side 1'): 'd1cb8adaacb84fc9',
    ('grad_lipschitz_normalized_A', 'step 1 side 1'): 'd243213c792378ce',
    ('grad_lipschitz_normalized_A', 'step 5 side 1'): '693ccae6c470c027',
    ('grad_lipschitz_rescaled', 'step 1 side 1'): '596103d11dc98be2',
    ('grad_lipschitz_rescaled', 'step 3 side 1'): 'd1cb8adaacb84fc9',
    ('matrix_logit_box', 'step 4 side 1'): '6b6ee00121995bf2',
    ('matrix_f_lipschitz_X', 'step 2 side 1'): '3b7962a305bc2420',
    ('matrix_c_lipschitz_X', 'step 1 side 1'): '7b51b08ec54590c2',
    ('matrix_u_lipschitz_X', 'step 2 side 1'): '3b7962a305bc2420',
    ('matrix_alpha_lipschitz_X', 'step 2 side 1'): '3b7962a305bc2420',
    ('matrix_h_lipschitz_X', 'step 3 side 1'): 'ed65a3b9df0045d4',
    ('matrix_grad_lipschitz_normalized', 'step 1 side 1'): 'c46ae0a7d0e9b3b5',
    ('matrix_grad_lipschitz_normalized', 'step 4 side 1'): 'bd5ffdb701637043',
    ('matrix_grad_lipschitz_rescaled', 'step 1 side 1'): 'c46ae0a7d0e9b3b5',
    ('matrix_grad_lipschitz_rescaled', 'step 4 side 1'): 'bd5ffdb701637043',
    ('matrix_f_lipschitz_A1', 'step 2 side 1'): '69883191fe5dd6f5',
    ('matrix_f_lipschitz_A2', 'step 2 side 1'): 'ccb330c6ecf24d46',
    ('matrix_u_lipschitz_A1', 'step 2 side 1'): '69883191fe5dd6f5',
}


__all__ = ["LINKED"]
