"""The device a perf run measures on, and its peak FLOP/s (datasheet for known GPUs, measured otherwise)."""
from __future__ import annotations

import os
import platform
import time
from dataclasses import asdict, dataclass

#: dense (no sparsity) bf16 tensor-core peak FLOP/s from NVIDIA datasheets, matched on the device name
#: in this order (first match wins). H200 has the H100 SXM compute with more and faster memory.
GPU_PEAK_BF16 = (
    ("H200", 989.4e12),
    ("H100 NVL", 835.0e12),
    ("H100 PCIe", 756.0e12),
    ("H100", 989.4e12),  # SXM5 / HBM3
    ("GH200", 989.4e12),
    ("B200", 2250e12),
    ("A100", 312.0e12),
    ("L40S", 362.0e12),
    ("A6000", 154.8e12),
)


@dataclass
class DeviceInfo:
    kind: str  # "cuda" or "cpu"
    name: str
    torch_version: str
    peak_flops: float | None  # FLOP/s for the run's dtype
    peak_source: str  # "datasheet: <entry>", "measured matmul <dtype>" or "unknown"
    dtype: str
    cuda_version: str | None = None
    threads: int | None = None
    memory_bytes: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def slug(self) -> str:
        """File-name form of the device name: ``nvidia-h100-80gb-hbm3``, ``cpu-x86_64``."""
        keep = "".join(c if c.isalnum() else "-" for c in self.name.lower())
        return "-".join(filter(None, keep.split("-")))


def datasheet_peak(name: str) -> tuple[float, str] | None:
    """(peak bf16 FLOP/s, matched entry) for a known GPU name, else None."""
    for key, value in GPU_PEAK_BF16:
        if key.lower() in name.lower():
            return value, key
    return None


def measure_matmul_peak(device: str, dtype, size: int = 1024, seconds: float = 1.0) -> float:
    """Best achieved FLOP/s of a square ``size`` matmul in ``dtype`` on ``device`` over about ``seconds``."""
    import torch

    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    flops = 2 * size**3
    for _ in range(3):  # warmup
        torch.mm(a, b)
    _sync(device)
    best = 0.0
    deadline = time.perf_counter() + seconds
    reps = 4
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b)
        _sync(device)
        elapsed = time.perf_counter() - start
        best = max(best, reps * flops / elapsed)
    return best


def _sync(device: str) -> None:
    if str(device).startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def detect(requested: str = "auto", dtype_name: str | None = None, measure_seconds: float = 1.0) -> DeviceInfo:
    """Pick ``cuda`` when available (or as requested) and describe it; ``cuda`` requested without one is an error.

    The dtype defaults to bf16 on CUDA and fp32 on CPU (bf16 GEMMs on most CPUs are emulated, so a bf16 CPU
    run would measure the emulation). CPU peak is measured with a matmul in the same run and dtype.
    """
    import torch

    kind = requested
    if requested == "auto":
        kind = "cuda" if torch.cuda.is_available() else "cpu"
    if kind == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda requested but torch.cuda.is_available() is False "
                           f"(torch {torch.__version__}); install a CUDA build of torch or use --device cpu")
    if kind not in ("cuda", "cpu"):
        raise ValueError(f"unknown device {requested!r}: use auto, cuda or cpu")
    dtype_name = dtype_name or ("bfloat16" if kind == "cuda" else "float32")
    dtype = getattr(torch, dtype_name)
    if kind == "cuda":
        props = torch.cuda.get_device_properties(0)
        sheet = datasheet_peak(props.name) if dtype_name == "bfloat16" else None
        if sheet:
            peak, source = sheet[0], f"datasheet: {sheet[1]} dense bf16"
        else:
            peak, source = measure_matmul_peak("cuda", dtype, 8192, measure_seconds), f"measured matmul {dtype_name}"
        return DeviceInfo("cuda", props.name, torch.__version__, peak, source, dtype_name,
                          cuda_version=torch.version.cuda, memory_bytes=props.total_memory)
    name = f"cpu-{platform.machine()}"
    cpu_model = _cpu_model()
    if cpu_model:
        name = f"{name} {cpu_model}"
    peak = measure_matmul_peak("cpu", dtype, 512, measure_seconds)
    return DeviceInfo("cpu", name, torch.__version__, peak, f"measured matmul {dtype_name} (this run)", dtype_name,
                      threads=torch.get_num_threads(), memory_bytes=_total_memory())


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def _total_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
