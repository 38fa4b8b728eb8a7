"""One PathoGAN training step in PyTorch, for timing against the Go model.

`pathogan bench --compare-torch` runs this file. It builds the networks of the
paper's section 2.4 from the paper's own shorthand (the strings in SPEC, read by
`build`), with every width scaled by base/64 and the encoders' layout map
i = size/16, and the objective of section 2.3 (eqs. 6-17) with the identity
loss, as `pathogan.Config.Section24` trains it. The step runs the same network
applications as the Go trainer: GA and GB on both cycles and the identity
inputs, and each discriminator three times (fake for the generators; real and
detached fake for its own update). One step is one Adam update of the four
generator networks, then one of the two discriminators.

    python3 pathogan_step.py --size 64 --base 8 --z 32 --res 9 --threads 1

It prints one JSON line: the median and minimum step time over --steps timed
steps (after two untimed ones), the forward FLOPs of one step (2·MACs of every
convolution, transposed convolution and linear layer, counted per output
element, for a transposed convolution per input element), and the parameter
count. `pathogan bench` checks both counts against the Go model's.
"""
import argparse
import json
import re
import statistics
import time

import torch
from torch import nn

# Section 2.4, verbatim but for the symbols: widths are the paper's (base 64),
# i and z the encoders' layout size and code length, r = n + 1 the residual
# maps, Rf×N a residual block repeated N times (the paper writes nine).
SPEC = {
    "encoder": "c7-64,d128,d256,d512,d1024,C1-i,Q2F,l(z*i)t,l(2*z)",
    "decoder": "l(i*i)e,l(i*i),F2Q,c3-1024,u512,u256,C7-256e,R256×N,u128,u64,C7-r",
    "zb": "c7-64,d128,d256,R256×N,u128,u64,C7-r",
}


class Residual(nn.Module):
    """Rf: x + C3(ELU(IN(C3(x))))."""

    def __init__(self, f):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(f, f, 3, padding=1), nn.InstanceNorm2d(f), nn.ELU(),
                                  nn.Conv2d(f, f, 3, padding=1))

    def forward(self, x):
        return x + self.body(x)


class Reshape(nn.Module):
    """F2Q: a vector of i·i values to a one-channel i×i image."""

    def __init__(self, i):
        super().__init__()
        self.i = i

    def forward(self, x):
        return x.reshape(x.shape[0], 1, self.i, self.i)


def build(spec, channels, scale, sym):
    """Turns one of SPEC's strings into an nn.Sequential.

    channels is the input's channel count (or vector length, for a spec that
    starts with a dense layer), scale divides the paper's widths (64/base), and
    sym holds the values of i, z, r and N.
    """
    def value(expr):
        return int(eval(expr, {}, dict(sym)))  # products of the symbols only

    def width(text):
        return value(text) if re.fullmatch(r"[a-zN*0-9]+", text) and not text.isdigit() else int(text) // scale

    layers, c = [], channels
    for token in spec.split(","):
        repeat = 1
        if "×" in token:
            token, n = token.split("×")
            repeat = value(n)
        for _ in range(repeat):
            m = re.fullmatch(r"([cC])(\d+)-(\w+?)([et]?)", token)
            if m:
                kind, k, f, act = m.group(1), int(m.group(2)), width(m.group(3)), m.group(4)
                layers.append(nn.Conv2d(c, f, k, padding=k // 2))
                if kind == "c":
                    layers += [nn.InstanceNorm2d(f), nn.ELU()]
                layers += {"e": [nn.ELU()], "t": [nn.Tanh()], "": []}[act]
                c = f
            elif re.fullmatch(r"d\d+", token):
                f = width(token[1:])
                layers += [nn.Conv2d(c, f, 3, stride=2, padding=1), nn.InstanceNorm2d(f), nn.ELU()]
                c = f
            elif re.fullmatch(r"u\d+", token):
                f = width(token[1:])
                layers += [nn.ConvTranspose2d(c, f, 3, stride=2, padding=1, output_padding=1),
                           nn.InstanceNorm2d(f), nn.ELU()]
                c = f
            elif re.fullmatch(r"R\d+", token):
                layers.append(Residual(c))
            elif token == "Q2F":
                layers.append(nn.Flatten())
                c = c * sym["i"] * sym["i"]
            elif token == "F2Q":
                layers.append(Reshape(sym["i"]))
                c = 1
            else:
                m = re.fullmatch(r"l\((.+)\)([et]?)", token)
                if not m:
                    raise ValueError(f"unknown layer {token!r}")
                f = value(m.group(1))
                layers.append(nn.Linear(c, f))
                layers += {"e": [nn.ELU()], "t": [nn.Tanh()], "": []}[m.group(2)]
                c = f
    return nn.Sequential(*layers)


def patchgan(n, d):
    """CycleGAN's 70×70 PatchGAN: C4-d s2, C4-2d s2, C4-4d s2, C4-8d s1, C4-1 s1, padding 1,
    instance norm after all but the first and last, leaky ReLU 0.2 after all but the last."""
    layers, c = [], n
    for k, (f, s) in enumerate([(d, 2), (2 * d, 2), (4 * d, 2), (8 * d, 1)]):
        layers.append(nn.Conv2d(c, f, 4, stride=s, padding=1))
        if k > 0:
            layers.append(nn.InstanceNorm2d(f))
        layers.append(nn.LeakyReLU(0.2))
        c = f
    layers.append(nn.Conv2d(c, 1, 4, stride=1, padding=1))
    return nn.Sequential(*layers)


class PathoGAN(nn.Module):
    def __init__(self, n, size, base, z, res):
        super().__init__()
        scale, i = 64 // base, size // 16
        sym = {"i": i, "z": z, "r": n + 1, "N": res}
        self.z = z
        self.gamma_a = build(SPEC["encoder"], n, scale, sym)
        self.delta_b = build(SPEC["encoder"], n, scale, sym)
        self.e_a = build(SPEC["decoder"], 2 * z, scale, sym)
        self.z_b = build(SPEC["zb"], n, scale, sym)
        self.d_a, self.d_b = patchgan(n, base), patchgan(n, base)

    def generators(self):
        return [self.gamma_a, self.delta_b, self.e_a, self.z_b]

    @staticmethod
    def compose(r, x, noise):
        """Eq. 6: l = S(r0 + ε), y = l ⊙ tanh(r1..n) + (1 - l) ⊙ x."""
        logit = r[:, :1] + noise * torch.randn_like(r[:, :1])
        lab, paint = torch.sigmoid(logit), torch.tanh(r[:, 1:])
        return lab * paint + (1 - lab) * x, lab, paint, logit

    def encode(self, net, x):
        h = net(x)
        return h[:, :self.z], h[:, self.z:]

    @staticmethod
    def sample(mu, logvar):
        return mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)

    def gen_a(self, x, delta):
        mu, lv = self.encode(self.gamma_a, x)
        return self.compose(self.e_a(torch.cat([self.sample(mu, lv), delta], 1)), x, 1.0), (mu, lv)

    def gen_b(self, x):
        return self.compose(self.z_b(x), x, 1.0)


def weighted_sq(mask, paint, x, eps):
    """Eqs. 11, 12 over N: ||mask ⊙ (p - x)||² / (N ω), ω = (Σ mask + ε) / N held constant."""
    return ((mask * (paint - x)) ** 2).sum() / (mask.sum().detach() + eps)


def relevancy(lab, paint, x):
    """Eq. 15: mean(-log(1 - l²)) - ||l ⊙ (x - p)||₁ / ||l||₁, (x - p) held constant."""
    reward = (lab * (x - paint).detach().abs()).sum() / (x.shape[1] * lab.sum() + 1e-6)
    return -torch.log(1 - lab ** 2 + 1e-6).mean() - reward


def objective(m, xa, xb, eps=1.0):
    """Section 2.3's generator objective (eqs. 7-17 with the paper's weights: λCC 5, λR 0.5,
    λKL 0.1, the others 1) and the two fakes."""
    n = xa.shape[0]
    delta = torch.randn(n, m.z, device=xa.device)
    (hat_a, l_hat_a, p_hat_a, _), (mu_g, lv_g) = m.gen_a(xa, delta)          # ŷB = GA(xA, δ)
    tilde_b, l_tilde_b, p_tilde_b, logit_tilde_b = m.gen_b(hat_a)            # x̃A = GB(ŷB)
    hat_b, l_hat_b, p_hat_b, _ = m.gen_b(xb)                                 # ŷA = GB(xB)
    mu_d, lv_d = m.encode(m.delta_b, l_hat_b * xb)                           # δB from l̂B ⊙ xB
    (tilde_a, l_tilde_a, p_tilde_a, logit_tilde_a), _ = m.gen_a(hat_b, m.sample(mu_d, lv_d))
    (_, l_idt_a, _, _), _ = m.gen_a(xb, torch.zeros(n, m.z, device=xa.device))                 # identity
    _, l_idt_b, _, _ = m.gen_b(xa)

    bce = nn.functional.binary_cross_entropy_with_logits
    gan = ((m.d_b(hat_a) - 1) ** 2).mean() + ((m.d_a(hat_b) - 1) ** 2).mean()
    cycle = 5 * ((tilde_b - xa).abs().mean() + (tilde_a - xb).abs().mean())
    vae = (weighted_sq(1 - l_hat_a, p_hat_a, xa, eps) + weighted_sq(1 - l_hat_b, p_hat_b, xb, eps)
           + weighted_sq(l_tilde_a, p_tilde_a, xb, eps) + weighted_sq(l_tilde_b, p_tilde_b, xa, eps)
           + bce(logit_tilde_a, l_hat_b.detach()) + bce(logit_tilde_b, l_hat_a.detach()))
    identity = l_idt_a.abs().mean() + l_idt_b.abs().mean()
    rel = 0.5 * (relevancy(l_hat_a, p_hat_a, xa) + relevancy(l_hat_b, p_hat_b, xb))

    def kl(mu, lv):
        return -0.5 * (1 + lv - mu ** 2 - lv.exp()).mean()

    loss = gan + cycle + vae + identity + rel + 0.1 * (kl(mu_g, lv_g) + kl(mu_d, lv_d))
    return loss, hat_a, hat_b


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, default in [("size", 64), ("base", 8), ("z", 32), ("res", 9), ("batch", 4), ("steps", 10),
                          ("threads", 1), ("ch", 4)]:
        ap.add_argument("--" + name, type=int, default=default)
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    dev = torch.device(a.device)
    m = PathoGAN(a.ch, a.size, a.base, a.z, a.res).to(dev)
    gen_params = [p for net in m.generators() for p in net.parameters()]
    disc_params = list(m.d_a.parameters()) + list(m.d_b.parameters())
    opt_g = torch.optim.Adam(gen_params, 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc_params, 2e-4, betas=(0.5, 0.999))
    xa = (torch.rand(a.batch, a.ch, a.size, a.size) * 2 - 1).to(dev)
    xb = (torch.rand(a.batch, a.ch, a.size, a.size) * 2 - 1).to(dev)

    def step():
        opt_g.zero_grad()
        loss, hat_a, hat_b = objective(m, xa, xb)
        loss.backward()
        opt_g.step()
        opt_d.zero_grad()
        d = 0.5 * (((m.d_a(xa) - 1) ** 2).mean() + (m.d_a(hat_b.detach()) ** 2).mean()
                   + ((m.d_b(xb) - 1) ** 2).mean() + (m.d_b(hat_a.detach()) ** 2).mean())
        d.backward()
        opt_d.step()

    flops = [0]

    def count(mod, inp, out):
        k = mod.kernel_size[0] * mod.kernel_size[1] if hasattr(mod, "kernel_size") else 1
        if isinstance(mod, nn.ConvTranspose2d):
            flops[0] += 2 * inp[0].numel() * k * mod.out_channels
        elif isinstance(mod, nn.Conv2d):
            flops[0] += 2 * out.numel() * k * mod.in_channels
        elif isinstance(mod, nn.Linear):
            flops[0] += 2 * out.numel() * mod.in_features

    hooks = [mod.register_forward_hook(count) for mod in m.modules()
             if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))]
    step()
    for h in hooks:
        h.remove()
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    step()
    times = []
    for _ in range(a.steps):
        sync()
        t0 = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print(json.dumps({
        "impl": "pytorch-" + torch.__version__, "device": a.device, "size": a.size, "base": a.base, "z": a.z,
        "res": a.res, "batch": a.batch, "threads": a.threads,
        "params": sum(p.numel() for p in gen_params + disc_params),
        "step_s_median": med, "step_s_min": min(times), "images_per_s": a.batch / med,
        "fwd_gflop_per_step": flops[0] / 1e9, "train_gflop_per_step_est": 3 * flops[0] / 1e9,
        "achieved_gflops_est": 3 * flops[0] / 1e9 / med,
    }))


if __name__ == "__main__":
    main()
