#!/usr/bin/python3
"""Golden PyTorch reference for the C++ AnimeGANv2 engine tests.

Mirrors the Generator of the public PyTorch port of AnimeGANv2
(bryandlee/animegan2-pytorch, model.py): same layer structure and the same
state-dict key names as the released weights, so the C++ loader can read both
the released checkpoints and the model.pt written here.  Options cover the
variants the engine supports: the resize used between stages (--upsample),
optional channel attention after block_c/block_d (--attention), and GroupNorm
with one group (layer norm, the port's default) or one group per channel
(instance norm, --norm-groups 0).

Writes to --out DIR: model.pt (torch.save of the state dict, zip format),
input.f32 / output.f32 (raw little-endian float32, CHW, batch 1) and meta.txt.
With --export-onnx FILE it also exports the same model to ONNX (opset 11).

With --from-gguf FILE the weights and hyper-parameters (upsample mode, norm
epsilon and groups, attention) come from one of OUR converted GGUF files instead
of the seeded random init (no model.pt is written then).  The input is the
deterministic pattern at --height x --width, or --input-f32 FILE (raw float32
CHW in [-1, 1], --height/--width give its size), or --input-image FILE (PNG/JPEG
through PIL, scaled to [-1, 1] like the engine's image_to_tensor; resized with
PIL bilinear only when --height/--width are given).
Runs offline on CPU; never downloads anything.
"""
import argparse
import math
import os
import struct
import time

import numpy
import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"groups": 1, "eps": 1e-5}  # set from the command line before building


def make_norm(channels):
    g = CFG["groups"] or channels  # 0 -> one group per channel (instance norm)
    return nn.GroupNorm(num_groups=g, num_channels=channels, affine=True, eps=CFG["eps"])


class ConvNormLReLU(nn.Sequential):
    def __init__(self, in_ch, out_ch, kernel_size=3, stride=1, padding=1,
                 pad_mode="reflect", groups=1, bias=False):
        assert pad_mode == "reflect"
        super().__init__(
            nn.ReflectionPad2d(padding),
            nn.Conv2d(in_ch, out_ch, kernel_size, stride, padding=0, groups=groups, bias=bias),
            make_norm(out_ch),
            nn.LeakyReLU(0.2, inplace=True),
        )


class InvertedResBlock(nn.Module):
    def __init__(self, in_ch, out_ch, expansion_ratio=2):
        super().__init__()
        self.use_res_connect = in_ch == out_ch
        bottleneck = int(round(in_ch * expansion_ratio))
        self.layers = nn.Sequential(
            ConvNormLReLU(in_ch, bottleneck, kernel_size=1, padding=0),
            ConvNormLReLU(bottleneck, bottleneck, groups=bottleneck, bias=True),
            nn.Conv2d(bottleneck, out_ch, kernel_size=1, padding=0, bias=False),
            make_norm(out_ch),
        )

    def forward(self, x):
        out = self.layers(x)
        return x + out if self.use_res_connect else out


class ChannelAttention(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(channels, channels // 8), nn.ReLU(),
                                nn.Linear(channels // 8, channels), nn.Sigmoid())

    def forward(self, x):
        y = self.fc(x.mean((2, 3)))
        return x * y[:, :, None, None]


def resize_tf_legacy(x, size):
    """TF1 resize_bilinear(align_corners=False, half_pixel_centers=False), float32."""
    def axis(in_size, out_size):
        scale = torch.tensor(in_size, dtype=torch.float32) / torch.tensor(out_size, dtype=torch.float32)
        src = torch.arange(out_size, dtype=torch.float32) * scale
        i0 = torch.floor(src).clamp(max=in_size - 1)
        w = src - i0
        i0 = i0.long()
        i1 = torch.clamp(i0 + 1, max=in_size - 1)
        return i0, i1, w

    n, c, h, w_in = x.shape
    y0, y1, wy = axis(h, size[0])
    x0, x1, wx = axis(w_in, size[1])
    # Same evaluation order as TF: lerp along x on both rows, then along y.
    rows0, rows1 = x.index_select(2, y0), x.index_select(2, y1)
    top_l, top_r = rows0.index_select(3, x0), rows0.index_select(3, x1)
    bot_l, bot_r = rows1.index_select(3, x0), rows1.index_select(3, x1)
    top = top_l + (top_r - top_l) * wx
    bot = bot_l + (bot_r - bot_l) * wx
    return top + (bot - top) * wy[:, None]


def resize(x, size, mode):
    size = [int(s) for s in size]
    if mode == "align_corners":
        return F.interpolate(x, size=size, mode="bilinear", align_corners=True)
    if mode == "half_pixel":
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)
    return resize_tf_legacy(x, size)


class Generator(nn.Module):
    def __init__(self, upsample="align_corners", attention=False):
        super().__init__()
        self.upsample = upsample
        self.block_a = nn.Sequential(
            ConvNormLReLU(3, 32, kernel_size=7, padding=3),
            ConvNormLReLU(32, 64, stride=2, padding=(0, 1, 0, 1)),
            ConvNormLReLU(64, 64))
        self.block_b = nn.Sequential(
            ConvNormLReLU(64, 128, stride=2, padding=(0, 1, 0, 1)),
            ConvNormLReLU(128, 128))
        self.block_c = nn.Sequential(
            ConvNormLReLU(128, 128),
            InvertedResBlock(128, 256, 2), InvertedResBlock(256, 256, 2),
            InvertedResBlock(256, 256, 2), InvertedResBlock(256, 256, 2),
            ConvNormLReLU(256, 128))
        self.block_d = nn.Sequential(ConvNormLReLU(128, 128), ConvNormLReLU(128, 128))
        self.block_e = nn.Sequential(
            ConvNormLReLU(128, 64), ConvNormLReLU(64, 64),
            ConvNormLReLU(64, 32, kernel_size=7, padding=3))
        self.out_layer = nn.Sequential(nn.Conv2d(32, 3, kernel_size=1, stride=1, padding=0, bias=False),
                                       nn.Tanh())
        if attention:
            self.attn_c = ChannelAttention(128)
            self.attn_d = ChannelAttention(128)
        self.attention = attention

    def forward(self, x):
        a = self.block_a(x)
        half = a.shape[-2:]
        b = self.block_c(self.block_b(a))
        if self.attention:
            b = self.attn_c(b)
        b = resize(b, half, self.upsample)
        d = self.block_d(b)
        if self.attention:
            d = self.attn_d(d)
        d = resize(d, x.shape[-2:], self.upsample)
        return self.out_layer(self.block_e(d))


def build_model(args):
    torch.manual_seed(args.seed)
    model = Generator(args.upsample, args.attention)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.GroupNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
        # Default kaiming init of the final 1x1 conv does not saturate tanh
        # (output std ~0.3-0.4, no |y| > 0.99), so it is left unscaled.
    return model.eval()


def make_input(h, w, seed):
    g = torch.Generator().manual_seed(seed + 1)
    yy = torch.linspace(0, 1, h)[:, None]
    xx = torch.linspace(0, 1, w)[None, :]
    chans = []
    for c in range(3):
        v = (0.5 * torch.sin(2 * math.pi * (1.3 + c) * xx + 0.7 * c)
             + 0.4 * torch.cos(2 * math.pi * (0.8 + 0.5 * c) * yy - 1.1 * c)
             + 0.3 * torch.sin(2 * math.pi * 3.0 * (xx + yy) + c))
        chans.append(v)
    img = torch.stack(chans)[None] + 0.1 * torch.randn(1, 3, h, w, generator=g)
    return img.clamp(-1, 1).contiguous()


GGUF_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q",
                12: "<d"}
GGUF_STRING, GGUF_ARRAY = 8, 9
GGUF_TENSOR_DTYPES = {0: ("<f4", 4), 1: ("<f2", 2)}  # F32, F16


class GgufReader:
    """Minimal GGUF v3 reader: metadata and F32/F16 tensors, dims reversed to PyTorch order."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        self.pos = 0
        self.path = path
        if self.take(4) != b"GGUF":
            raise ValueError(f"{path}: not a GGUF file")
        version, n_tensors, n_kv = self.unpack("<I"), self.unpack("<Q"), self.unpack("<Q")
        if version != 3:
            raise ValueError(f"{path}: GGUF version {version}, expected 3")
        self.meta = {}
        for _ in range(n_kv):
            key = self.string()
            self.meta[key] = self.value(self.unpack("<I"))
        infos = []
        for _ in range(n_tensors):
            name = self.string()
            dims = [self.unpack("<Q") for _ in range(self.unpack("<I"))]
            infos.append((name, dims[::-1], self.unpack("<I"), self.unpack("<Q")))
        align = int(self.meta.get("general.alignment", 32))
        base = (self.pos + align - 1) // align * align
        self.tensors = {}
        for name, shape, kind, offset in infos:
            if kind not in GGUF_TENSOR_DTYPES:
                raise ValueError(f"{path}: tensor {name}: unsupported GGUF type {kind}")
            dtype, size = GGUF_TENSOR_DTYPES[kind]
            count = math.prod(shape)
            start = base + offset
            if start + count * size > len(self.data):
                raise ValueError(f"{path}: tensor {name} runs past the end of the file")
            flat = torch.frombuffer(bytearray(self.data[start:start + count * size]),
                                    dtype=torch.float32 if size == 4 else torch.float16)
            self.tensors[name] = flat.float().reshape(shape)

    def take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError(f"{self.path}: truncated GGUF header")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def unpack(self, fmt):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self):
        return self.take(self.unpack("<Q")).decode("utf-8")

    def value(self, kind):
        if kind in GGUF_SCALARS:
            return self.unpack(GGUF_SCALARS[kind])
        if kind == GGUF_STRING:
            return self.string()
        if kind == GGUF_ARRAY:
            item, n = self.unpack("<I"), self.unpack("<Q")
            return [self.value(item) for _ in range(n)]
        raise ValueError(f"{self.path}: unknown GGUF value type {kind}")


def load_gguf_model(path, args):
    """Generator with the weights and hyper-parameters of one of our GGUF files; updates args to match."""
    g = GgufReader(path)
    arch = g.meta.get("general.architecture")
    if arch != "animeganv2":
        raise ValueError(f"{path}: architecture {arch!r}, expected 'animeganv2'")
    args.upsample = g.meta.get("animeganv2.upsample_mode", "align_corners")
    args.eps = float(g.meta.get("animeganv2.norm_eps", 1e-5))
    args.norm_groups = int(g.meta.get("animeganv2.norm_groups", 1))
    args.attention = bool(g.meta.get("animeganv2.style_attention", False))
    CFG["groups"], CFG["eps"] = args.norm_groups, args.eps
    model = Generator(args.upsample, args.attention)
    model.load_state_dict(g.tensors, strict=True)
    return model.eval(), g.meta.get("general.name", "")


def load_input(args):
    """The network input [1, 3, H, W]: an image, a raw f32 file, or the deterministic pattern."""
    if args.input_image:
        try:
            from PIL import Image
        except ImportError:
            raise SystemExit("--input-image needs PIL (python3-pil); use --input-f32 instead")
        img = Image.open(args.input_image).convert("RGB")
        if args.height and args.width:
            img = img.resize((args.width, args.height), Image.BILINEAR)
        args.width, args.height = img.size
        x = torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8).reshape(args.height, args.width, 3)
        return (x.permute(2, 0, 1).float() / 127.5 - 1.0)[None].contiguous()
    if not (args.height and args.width):
        raise SystemExit("--height and --width are required (unless --input-image is given)")
    if args.input_f32:
        x = torch.from_numpy(numpy.fromfile(args.input_f32, dtype="<f4").astype("float32"))
        if x.numel() != 3 * args.height * args.width:
            raise SystemExit(f"{args.input_f32}: {x.numel()} floats, expected 3 x {args.height} x {args.width}")
        return x.reshape(1, 3, args.height, args.width).contiguous()
    return make_input(args.height, args.width, args.seed)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True)
    p.add_argument("--height", type=int, help="required unless --input-image is given")
    p.add_argument("--width", type=int, help="required unless --input-image is given")
    p.add_argument("--upsample", default="align_corners", choices=["align_corners", "half_pixel", "tf_legacy"])
    p.add_argument("--attention", action="store_true")
    p.add_argument("--norm-groups", type=int, default=1, choices=[1, 0])
    p.add_argument("--eps", type=float, default=1e-5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--export-onnx", metavar="FILE", help="also export the model to ONNX at HxW")
    p.add_argument("--from-gguf", metavar="FILE",
                   help="weights and hyper-parameters from our GGUF file (overrides --upsample, --attention, "
                        "--norm-groups, --eps)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--input-f32", metavar="FILE", help="raw float32 CHW input in [-1, 1] of --height x --width")
    source.add_argument("--input-image", metavar="FILE", help="PNG/JPEG input (needs PIL)")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    CFG["groups"], CFG["eps"] = args.norm_groups, args.eps
    os.makedirs(args.out, exist_ok=True)

    if args.from_gguf:
        model, style = load_gguf_model(args.from_gguf, args)
        print(f"loaded {args.from_gguf} ({style}): upsample {args.upsample}, eps {args.eps:g}, "
              f"norm groups {args.norm_groups}, attention {int(args.attention)}")
    else:
        model = build_model(args)
        torch.save(model.state_dict(), os.path.join(args.out, "model.pt"))
    x = load_input(args)
    x.numpy().astype("<f4").tofile(os.path.join(args.out, "input.f32"))

    with torch.no_grad():
        t0 = time.perf_counter()
        y = model(x)
        dt = time.perf_counter() - t0
    assert y.shape == x.shape and y.dtype == torch.float32
    y.numpy().astype("<f4").tofile(os.path.join(args.out, "output.f32"))

    with open(os.path.join(args.out, "meta.txt"), "w") as f:
        f.write(f"height {args.height}\nwidth {args.width}\nupsample {args.upsample}\n"
                f"attention {int(args.attention)}\nnorm_groups {args.norm_groups}\n"
                f"eps {args.eps!r}\nseed {args.seed}\n")
        if args.from_gguf:
            f.write(f"gguf {args.from_gguf}\n")
    sat = (y.abs() > 0.99).float().mean().item()
    print(f"output {tuple(y.shape)} std {y.std().item():.4f} mean {y.mean().item():.4f} "
          f"min {y.min().item():.4f} max {y.max().item():.4f} |y|>0.99: {100 * sat:.2f}% "
          f"forward {dt * 1000:.1f} ms ({args.threads} threads)")

    if args.export_onnx:
        torch.onnx.export(model, x, args.export_onnx, opset_version=11,
                          input_names=["input"], output_names=["output"])
        print(f"exported {args.export_onnx}")


if __name__ == "__main__":
    main()
