"""LPIPS (AlexNet), DISTS, CLIPIQA+ and MUSIQ through pyiqa, created once, batched, weights checked first."""
from __future__ import annotations

from benchmarks.metrics.base import Metric
from benchmarks.metrics.availability import require_weights
from benchmarks.metrics.specs import PYIQA_NAMES


class PyiqaMetric(Metric):
    def __init__(self, spec, device="cpu"):
        super().__init__(spec, device)
        self._net = None

    def network(self):
        if self._net is None:
            require_weights(self.key)  # never let pyiqa try a download on an offline node
            import pyiqa

            self._net = pyiqa.create_metric(PYIQA_NAMES[self.key], device=self.device, as_loss=False)
        return self._net

    def compute(self, pred, target, batch_size: int = 8):
        import torch

        net = self.network()
        out = []
        with torch.no_grad():
            for start in range(0, len(pred), batch_size):
                p = pred[start:start + batch_size].to(self.device)
                if self.needs_reference:
                    values = net(p, target[start:start + batch_size].to(self.device))
                else:
                    values = net(p)
                out.append(values.reshape(-1).to("cpu", torch.float64))
        return torch.cat(out)
