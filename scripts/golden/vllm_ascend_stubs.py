"""Lets vLLM-Ascend's EPLB policy modules import from a checkout without vLLM, torch_npu or an NPU.

Used by scripts/golden/peers.py and Benchmarks/peers_original_speed.py. Nothing of vLLM-Ascend's
code is kept in this repository: the policies are imported from the checkout given.
"""

import logging
import os
import sys
import types


def register(vllm_ascend_root):
    """Registers stubs for the runtime modules the policies import and the policy package path.

    The stubs: `vllm.logger.logger` (a standard logger), `get_dynamic_eplb_group` (raises, as it
    does before the process groups are initialised) and an empty `torch_npu`. The packages
    `vllm_ascend`, `vllm_ascend.eplb`, `vllm_ascend.eplb.core`, `vllm_ascend.eplb.core.policy`
    and `vllm_ascend.distributed` point at the checkout's folders, so their `__init__` files
    (which import the whole runtime) are not run.
    """
    vllm = types.ModuleType("vllm")
    vllm_logger = types.ModuleType("vllm.logger")
    vllm_logger.logger = logging.getLogger("vllm-ascend-policy")
    sys.modules.setdefault("vllm", vllm)
    sys.modules.setdefault("vllm.logger", vllm_logger)
    base = os.path.join(vllm_ascend_root, "vllm_ascend")
    for name, path in [
        ("vllm_ascend", base),
        ("vllm_ascend.eplb", os.path.join(base, "eplb")),
        ("vllm_ascend.eplb.core", os.path.join(base, "eplb", "core")),
        ("vllm_ascend.eplb.core.policy", os.path.join(base, "eplb", "core", "policy")),
        ("vllm_ascend.distributed", os.path.join(base, "distributed")),
    ]:
        m = types.ModuleType(name)
        m.__path__ = [path]
        sys.modules[name] = m
    ps = types.ModuleType("vllm_ascend.distributed.parallel_state")

    def get_dynamic_eplb_group():
        raise RuntimeError("not initialised")

    ps.get_dynamic_eplb_group = get_dynamic_eplb_group
    sys.modules["vllm_ascend.distributed.parallel_state"] = ps
    sys.modules.setdefault("torch_npu", types.ModuleType("torch_npu"))
