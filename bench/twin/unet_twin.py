"""A PyTorch twin of @dalle2js/unet's decoder U-Net, for benchmarks beside our WebGPU numbers.

Written from packages/unet/src/*.ts: the same JSON config (UNetConfig's keys, the same defaults),
the same state-dict keys and shapes as `saveModuleWeights(unet, ...)` writes (OIHW convolutions,
[out, in] linear weights), and the same function, channels-first (NCHW) inside. check_parity.py
checks it against a tiny U-Net that export-parity-case.mjs saves.

Condition dropout by random draws (`condDropProb`) is left out; an explicit per-row `keep` mask
(what `forwardWithGuidance` uses) is supported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# Added to the scores of padded keys: finite like ours, so a fully masked row stays finite.
MASKED = -1e9

PRESETS: dict[str, dict[str, Any]] = {
    "seed": {
        "dim": 128,
        "dimMults": [1, 2, 4, 8],
        "numResnetBlocks": 2,
        "imageEmbedDim": 512,
        "selfAttention": [False, False, True, True],
        "crossAttention": [False, False, True, True],
        "midAttention": True,
        "attentionHeadDim": 64,
        "normGroups": 32,
    },
    "small": {
        "dim": 32,
        "dimMults": [1, 2, 2],
        "numResnetBlocks": 1,
        "imageEmbedDim": 512,
        "selfAttention": [False, False, False],
        "crossAttention": [False, False, True],
        "midAttention": True,
        "attentionHeadDim": 32,
        "normGroups": 8,
    },
}


@dataclass(frozen=True)
class UNetConfig:
    """unet-config.ts' UNetConfig, camelCase keys kept so that JSON configs load as they are."""

    dim: int
    dimMults: list[int]
    channels: int
    numResnetBlocks: int
    imageEmbedDim: int
    numImageTokens: int
    contextDim: int
    textEmbedDim: int | None
    maxTextLen: int
    selfAttention: list[bool]
    crossAttention: list[bool]
    midAttention: bool
    attentionHeadDim: int
    normGroups: int
    normEps: float
    learnedVariance: bool
    lowresCond: bool

    @property
    def widths(self) -> list[int]:
        """Channels at each level: dim * dimMults[i]."""
        return [self.dim * m for m in self.dimMults]

    @property
    def uses_context(self) -> bool:
        return self.midAttention or any(self.crossAttention)

    def has_attention(self, level: int) -> bool:
        return self.selfAttention[level] or self.crossAttention[level]


def resolve_config(raw: dict[str, Any] | None = None) -> UNetConfig:
    """resolveUNetConfig: fills the same defaults; unknown keys and bad values raise ValueError."""
    raw = dict(raw or {})
    valid = [f.name for f in fields(UNetConfig)]
    for key in raw:
        if key not in valid:
            raise ValueError(f'UNet config: unknown key "{key}"; valid keys: {", ".join(valid)}')
    dim = raw.get("dim", 128)
    mults = list(raw.get("dimMults", [1, 2, 4, 8]))
    if not mults:
        raise ValueError("UNet config: dimMults must be a non-empty list of positive integers")
    low_levels = [i >= len(mults) - 2 for i in range(len(mults))]
    config = UNetConfig(
        dim=dim,
        dimMults=mults,
        channels=raw.get("channels", 3),
        numResnetBlocks=raw.get("numResnetBlocks", 2),
        imageEmbedDim=raw.get("imageEmbedDim", 512),
        numImageTokens=raw.get("numImageTokens", 4),
        contextDim=raw.get("contextDim", dim),
        textEmbedDim=raw.get("textEmbedDim"),
        maxTextLen=raw.get("maxTextLen", 77),
        selfAttention=list(raw.get("selfAttention", low_levels)),
        crossAttention=list(raw.get("crossAttention", low_levels)),
        midAttention=raw.get("midAttention", True),
        attentionHeadDim=raw.get("attentionHeadDim", 64),
        normGroups=raw.get("normGroups", 32),
        normEps=raw.get("normEps", 1e-5),
        learnedVariance=raw.get("learnedVariance", False),
        lowresCond=raw.get("lowresCond", False),
    )
    _validate(config)
    return config


def preset(name: str, **overrides: Any) -> dict[str, Any]:
    """unetPreset: a preset's raw config with overrides applied."""
    if name not in PRESETS:
        raise ValueError(f'Unknown UNet preset "{name}"; valid: {", ".join(PRESETS)}')
    return {**PRESETS[name], **overrides}


def _validate(config: UNetConfig) -> None:
    levels = len(config.dimMults)
    for key in ("selfAttention", "crossAttention"):
        if len(getattr(config, key)) != levels:
            raise ValueError(f"UNet config: {key} needs one flag per level ({levels})")
    for c in config.widths:
        if c % config.normGroups != 0:
            raise ValueError(f"UNet config: normGroups {config.normGroups} must divide every level's channels {config.widths}")
    attended = [c for i, c in enumerate(config.widths) if config.has_attention(i)]
    if config.midAttention:
        attended.append(config.widths[-1])
    for c in attended:
        if c % config.attentionHeadDim != 0:
            raise ValueError(f"UNet config: attentionHeadDim {config.attentionHeadDim} must divide attended channels, got {c}")


def zero_init(module: nn.Module) -> nn.Module:
    """guided-diffusion's zero_module: the last layer of every residual branch starts at zero."""
    for p in module.parameters():
        nn.init.zeros_(p)
    return module


def sinusoid(timesteps: Tensor, dim: int, max_period: float = 10000.0) -> Tensor:
    """guided-diffusion's timestep_embedding: [cos, sin], freqs exp(-ln(max_period) i / half). [B] -> [B, dim]"""
    half = dim // 2
    # float64 then float32, like sinusoidalEmbedding in core.
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float64) / half).float()
    args = timesteps.float()[:, None] * freqs.to(timesteps.device)[None, :]  # [B, half]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=1)
    if dim % 2 == 1:
        emb = F.pad(emb, (0, 1))
    return emb


class TimestepEmbedding(nn.Module):
    def __init__(self, dim: int, time_embed_dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.linear_1 = nn.Linear(dim, time_embed_dim)
        self.linear_2 = nn.Linear(time_embed_dim, time_embed_dim)

    def forward(self, timesteps: Tensor) -> Tensor:  # [B] -> [B, T]
        return self.linear_2(F.silu(self.linear_1(sinusoid(timesteps, self.dim))))


def _mix(value: Tensor, fallback: Tensor, keep: Tensor) -> Tensor:
    """keep * value + (1 - keep) * fallback, fallback broadcast over the batch."""
    return value * keep + fallback * (1 - keep)


class CondProjection(nn.Module):
    """Image embedding (and optional text) -> time-embedding offset and cross-attention tokens."""

    def __init__(self, config: UNetConfig, time_embed_dim: int) -> None:
        super().__init__()
        self.config = config
        ctx = config.contextDim
        self.null_image_embed = nn.Parameter(torch.zeros(config.imageEmbedDim))
        self.image_to_time = nn.Linear(config.imageEmbedDim, time_embed_dim)
        self.image_to_tokens: nn.Linear | None = None
        self.text_to_context: nn.Linear | None = None
        self.text_norm: nn.LayerNorm | None = None
        self.null_text_tokens: nn.Parameter | None = None
        if config.uses_context:
            self.image_to_tokens = nn.Linear(config.imageEmbedDim, config.numImageTokens * ctx)
            if config.textEmbedDim is not None:
                self.text_to_context = nn.Linear(config.textEmbedDim, ctx)
                self.text_norm = nn.LayerNorm(ctx, eps=config.normEps)
                self.null_text_tokens = nn.Parameter(torch.zeros(config.maxTextLen, ctx))

    def forward(
        self,
        image_embed: Tensor,
        text: Tensor | None,
        text_mask: Tensor | None,
        keep: Tensor | None,
    ) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """-> time offset [B, T], context tokens [B, N + S, ctx] or None, key mask [B, N + S] or None."""
        b = image_embed.shape[0]
        n, ctx = self.config.numImageTokens, self.config.contextDim
        keep_col = None if keep is None else keep.float().reshape(b, 1)
        image = image_embed if keep_col is None else _mix(image_embed, self.null_image_embed, keep_col)
        time_offset = self.image_to_time(image)
        if self.image_to_tokens is None:
            return time_offset, None, None
        image_tokens = self.image_to_tokens(image).reshape(b, n, ctx)  # [B, N, ctx]
        if text is None or self.text_to_context is None or self.text_norm is None:
            return time_offset, image_tokens, None
        s = text.shape[1]
        tokens = self.text_norm(self.text_to_context(text))  # [B, S, ctx]
        mask = image_embed.new_ones(b, s) if text_mask is None else text_mask.float()
        if keep_col is not None and self.null_text_tokens is not None:
            tokens = _mix(tokens, self.null_text_tokens[:s], keep_col.reshape(b, 1, 1))
            mask = _mix(mask, mask.new_ones(s), keep_col)  # a dropped row attends to all null tokens
        context = torch.cat([image_tokens, tokens], dim=1)
        return time_offset, context, torch.cat([mask.new_ones(b, n), mask], dim=1)


class ResnetBlock2D(nn.Module):
    """h = conv1(silu(norm1(x))); h = conv2(silu(norm2(h) (1 + scale) + shift)); shortcut(x) + h."""

    def __init__(self, in_ch: int, out_ch: int, time_embed_dim: int, groups: int, eps: float) -> None:
        super().__init__()
        self.out_ch = out_ch
        self.norm1 = nn.GroupNorm(groups, in_ch, eps=eps)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.time_emb_proj = nn.Linear(time_embed_dim, 2 * out_ch)
        self.norm2 = nn.GroupNorm(groups, out_ch, eps=eps)
        self.conv2 = zero_init(nn.Conv2d(out_ch, out_ch, 3, padding=1))
        self.conv_shortcut = None if in_ch == out_ch else nn.Conv2d(in_ch, out_ch, 1)

    def forward(self, x: Tensor, activated_emb: Tensor) -> Tensor:  # [B, in, H, W], silu(emb) [B, T]
        h = self.conv1(F.silu(self.norm1(x)))  # [B, out, H, W]
        scale, shift = self.time_emb_proj(activated_emb)[:, :, None, None].chunk(2, dim=1)  # [B, out, 1, 1]
        h = self.conv2(F.silu(self.norm2(h) * (1 + scale) + shift))
        skip = x if self.conv_shortcut is None else self.conv_shortcut(x)
        return skip + h


class MultiheadAttention(nn.Module):
    """core's MultiheadAttention: q_proj, k_proj, v_proj, out_proj; heads split as [B, len, H, d]."""

    def __init__(self, dim: int, heads: int, kv_dim: int | None = None) -> None:
        super().__init__()
        kv_dim = dim if kv_dim is None else kv_dim
        self.heads = heads
        self.q_proj = nn.Linear(dim, dim)
        self.k_proj = nn.Linear(kv_dim, dim)
        self.v_proj = nn.Linear(kv_dim, dim)
        self.out_proj = nn.Linear(dim, dim)

    def forward(self, x: Tensor, context: Tensor | None = None, key_mask: Tensor | None = None) -> Tensor:
        b, t, dim = x.shape
        kv = x if context is None else context
        s, d = kv.shape[1], dim // self.heads

        def split(y: Tensor, length: int) -> Tensor:
            return y.reshape(b, length, self.heads, d).transpose(1, 2)  # [B, H, len, d]

        q, k, v = split(self.q_proj(x), t), split(self.k_proj(kv), s), split(self.v_proj(kv), s)
        scores = q @ k.transpose(-1, -2) * (1 / math.sqrt(d))  # [B, H, T, S]
        if key_mask is not None:
            scores = scores + ((1 - key_mask.float()) * MASKED).reshape(b, 1, 1, s)
        attended = scores.softmax(dim=-1) @ v  # [B, H, T, d]
        return self.out_proj(attended.transpose(1, 2).reshape(b, t, dim))  # [B, T, dim]


class AttentionBlock(nn.Module):
    """x + attn1(norm1(x)) over positions (GroupNorm), then x + attn2(norm2(x), context) (LayerNorm)."""

    def __init__(self, channels: int, self_attn: bool, cross_attn: bool, config: UNetConfig) -> None:
        super().__init__()
        heads = channels // config.attentionHeadDim
        self.norm1 = nn.GroupNorm(config.normGroups, channels, eps=config.normEps) if self_attn else None
        self.attn1 = MultiheadAttention(channels, heads) if self_attn else None
        self.norm2 = nn.LayerNorm(channels, eps=config.normEps) if cross_attn else None
        self.attn2 = MultiheadAttention(channels, heads, config.contextDim) if cross_attn else None
        for attn in (self.attn1, self.attn2):
            if attn is not None:
                zero_init(attn.out_proj)

    def forward(self, x: Tensor, context: Tensor | None, key_mask: Tensor | None) -> Tensor:
        b, c, h, w = x.shape
        tokens = x.flatten(2).transpose(1, 2)  # [B, HW, C]
        if self.norm1 is not None and self.attn1 is not None:
            tokens = tokens + self.attn1(self.norm1(x).flatten(2).transpose(1, 2))
        if self.norm2 is not None and self.attn2 is not None:
            if context is None:
                raise ValueError("AttentionBlock: cross-attention needs context tokens")
            tokens = tokens + self.attn2(self.norm2(tokens), context, key_mask)
        return tokens.transpose(1, 2).reshape(b, c, h, w)


class Downsample2D(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x)


class Upsample2D(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


Context = tuple[Tensor | None, Tensor | None]  # tokens [B, S, ctx], key mask [B, S]


class _Settings:
    def __init__(self, config: UNetConfig, time_embed_dim: int) -> None:
        self.config = config
        self.time_embed_dim = time_embed_dim

    def resnet(self, in_ch: int, out_ch: int) -> ResnetBlock2D:
        c = self.config
        return ResnetBlock2D(in_ch, out_ch, self.time_embed_dim, c.normGroups, c.normEps)

    def attention(self, channels: int, level: int | None) -> AttentionBlock:
        c = self.config
        if level is None:
            return AttentionBlock(channels, c.midAttention, c.midAttention, c)
        return AttentionBlock(channels, c.selfAttention[level], c.crossAttention[level], c)


class DownBlock2D(nn.Module):
    def __init__(self, in_ch: int, ch: int, level: int, downsample: bool, s: _Settings) -> None:
        super().__init__()
        count = s.config.numResnetBlocks
        self.resnets = nn.ModuleList([s.resnet(in_ch if j == 0 else ch, ch) for j in range(count)])
        self.attentions = (
            nn.ModuleList([s.attention(ch, level) for _ in range(count)]) if s.config.has_attention(level) else None
        )
        self.downsamplers = nn.ModuleList([Downsample2D(ch)]) if downsample else None

    def forward(self, x: Tensor, emb: Tensor, ctx: Context, skips: list[Tensor]) -> Tensor:
        h = x
        for j, block in enumerate(self.resnets):
            h = block(h, emb)
            if self.attentions is not None:
                h = self.attentions[j](h, *ctx)
            skips.append(h)
        if self.downsamplers is not None:
            h = self.downsamplers[0](h)
            skips.append(h)
        return h


class MidBlock2D(nn.Module):
    def __init__(self, ch: int, s: _Settings) -> None:
        super().__init__()
        self.resnets = nn.ModuleList([s.resnet(ch, ch), s.resnet(ch, ch)])
        self.attentions = nn.ModuleList([s.attention(ch, None)]) if s.config.midAttention else None

    def forward(self, x: Tensor, emb: Tensor, ctx: Context) -> Tensor:
        h = self.resnets[0](x, emb)
        if self.attentions is not None:
            h = self.attentions[0](h, *ctx)
        return self.resnets[1](h, emb)


class UpBlock2D(nn.Module):
    def __init__(self, in_ch: int, skip_chs: list[int], ch: int, level: int, upsample: bool, s: _Settings) -> None:
        super().__init__()
        self.resnets = nn.ModuleList([s.resnet((in_ch if j == 0 else ch) + sk, ch) for j, sk in enumerate(skip_chs)])
        self.attentions = (
            nn.ModuleList([s.attention(ch, level) for _ in skip_chs]) if s.config.has_attention(level) else None
        )
        self.upsamplers = nn.ModuleList([Upsample2D(ch)]) if upsample else None

    def forward(self, x: Tensor, emb: Tensor, ctx: Context, skips: list[Tensor]) -> Tensor:
        h = x
        for j, block in enumerate(self.resnets):
            h = block(torch.cat([h, skips.pop()], dim=1), emb)  # [B, C + skip, H, W]
            if self.attentions is not None:
                h = self.attentions[j](h, *ctx)
        if self.upsamplers is not None:
            h = self.upsamplers[0](h)
        return h


class UNet(nn.Module):
    """conv_in -> down_blocks -> mid_block -> up_blocks (lowest resolution first) -> conv_out."""

    def __init__(self, config: UNetConfig | dict[str, Any] | None = None) -> None:
        super().__init__()
        c = config if isinstance(config, UNetConfig) else resolve_config(config)
        self.config = c
        widths, levels, r = c.widths, len(c.widths), c.numResnetBlocks
        self.time_embed_dim = 4 * c.dim
        self.out_channels = 2 * c.channels if c.learnedVariance else c.channels
        s = _Settings(c, self.time_embed_dim)

        self.time_embedding = TimestepEmbedding(c.dim, self.time_embed_dim)
        self.cond_proj = CondProjection(c, self.time_embed_dim)
        self.conv_in = nn.Conv2d(2 * c.channels if c.lowresCond else c.channels, widths[0], 3, padding=1)

        skips = [widths[0]]  # channels of the skips in push order: conv_in, then every down block output
        downs = []
        for i in range(levels):
            last = i == levels - 1
            downs.append(DownBlock2D(widths[max(i - 1, 0)], widths[i], i, not last, s))
            skips += [widths[i]] * (r + (0 if last else 1))
        self.down_blocks = nn.ModuleList(downs)
        self.mid_block = MidBlock2D(widths[-1], s)
        ups = []
        previous = widths[-1]
        for i in reversed(range(levels)):
            popped = list(reversed(skips[-(r + 1) :]))
            del skips[-(r + 1) :]
            ups.append(UpBlock2D(previous, popped, widths[i], i, i > 0, s))
            previous = widths[i]
        self.up_blocks = nn.ModuleList(ups)
        self.conv_norm_out = nn.GroupNorm(c.normGroups, widths[0], eps=c.normEps)
        self.conv_out = zero_init(nn.Conv2d(widths[0], self.out_channels, 3, padding=1))

    def forward(
        self,
        x: Tensor,
        timesteps: Tensor,
        image_embed: Tensor,
        text_encodings: Tensor | None = None,
        text_mask: Tensor | None = None,
        lowres_image: Tensor | None = None,
        keep: Tensor | None = None,
    ) -> Tensor:
        """x [B, C, H, W], timesteps [B], image_embed [B, E] -> [B, outChannels, H, W]; keep [B]: 1 = cond, 0 = null."""
        if lowres_image is not None:
            factor = x.shape[2] // lowres_image.shape[2]
            x = torch.cat([x, F.interpolate(lowres_image, scale_factor=factor, mode="nearest")], dim=1)
        time_offset, tokens, mask = self.cond_proj(image_embed, text_encodings, text_mask, keep)
        emb = F.silu(self.time_embedding(timesteps) + time_offset)  # [B, T], shared by every ResNet block
        ctx: Context = (tokens, mask)
        h = self.conv_in(x)
        skips = [h]
        for down in self.down_blocks:
            h = down(h, emb, ctx, skips)
        h = self.mid_block(h, emb, ctx)
        for up in self.up_blocks:
            h = up(h, emb, ctx, skips)
        return self.conv_out(F.silu(self.conv_norm_out(h)))

    def forward_with_guidance(
        self,
        x: Tensor,
        timesteps: Tensor,
        image_embed: Tensor,
        scale: float,
        text_encodings: Tensor | None = None,
        text_mask: Tensor | None = None,
        lowres_image: Tensor | None = None,
    ) -> Tensor:
        """Conditional and null rows as one batch of 2B: uncond + scale (cond - uncond) on the target channels."""
        b = x.shape[0]

        def twice(t: Tensor | None) -> Tensor | None:
            return None if t is None else torch.cat([t, t])

        keep = torch.cat([x.new_ones(b), x.new_zeros(b)])
        out = self(twice(x), twice(timesteps), twice(image_embed), twice(text_encodings), twice(text_mask), twice(lowres_image), keep)
        cond, uncond = out.chunk(2)
        ch = self.config.channels
        guided = uncond[:, :ch] + scale * (cond[:, :ch] - uncond[:, :ch])
        return guided if not self.config.learnedVariance else torch.cat([guided, cond[:, ch:]], dim=1)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
