"""`modq stats` sections for paying once: provider calls, media analysed, calls avoided, estimated cost.

Read from ``provider_calls`` (``moderation/providers/usage.py``), which has a row for
every provider call a task made and every call dedupe or a hash bank made
unnecessary. Cost is estimated from the price table in config
(MODQ_PRICE_PER_IMAGE per image call, each analysed frame of an animation
being one call; MODQ_PRICE_PER_VIDEO_MINUTE per minute of stored video); the
offline model costs nothing per call.
"""

from __future__ import annotations

from sqlalchemy import func, select

from moderation.providers.models import AVOIDED, BANKED, REUSED, ProviderCall

PAID_PROVIDER = "rekognition"
IMAGE_OPERATION = "DetectModerationLabels"
ANIMATION = "animation"  # an image item with several frames: one call per frame analysed (``usage.note_media_type``)
IMAGE_MEDIA = ("image", ANIMATION)


def _totals(ctx) -> list[tuple[str, str, str, str | None, int, float]]:
    since = ctx.now - ctx.window
    c = ProviderCall
    return ctx.session.execute(
        select(c.provider, c.operation, c.outcome, c.media_type, func.sum(c.calls), func.sum(c.video_seconds))
        .where(c.at >= since).group_by(c.provider, c.operation, c.outcome, c.media_type)).all()


def calls(ctx):
    """Calls made, by provider, operation and outcome; and calls avoided, by how."""
    from moderation.cli.stats import Section

    made: dict[str, int] = {}
    avoided = {REUSED: 0, BANKED: 0}
    for provider, operation, outcome, _media, n, _seconds in _totals(ctx):
        if outcome in AVOIDED:
            avoided[outcome] += n or 0
        elif n:
            key = f"{provider} {operation} {outcome}"
            made[key] = made.get(key, 0) + n
    section = Section("calls", "Provider calls", data={"made": made, "avoided": avoided})
    section.rows = [(key, f"{n:,}") for key, n in sorted(made.items())]
    section.rows.append(("avoided: same content (dedupe)", f"{avoided[REUSED]:,}"))
    section.rows.append(("avoided: hash bank", f"{avoided[BANKED]:,}"))
    return section


def cost(ctx):
    """Images and video minutes analysed, and what they cost (and saved) by the price table."""
    from moderation.cli.stats import Section

    images = paid_images = saved_images = frames = 0
    video_seconds = paid_video_seconds = 0.0
    for provider, operation, outcome, media, n, seconds in _totals(ctx):
        paid = provider == PAID_PROVIDER
        if outcome == "ok" and operation == IMAGE_OPERATION and media in IMAGE_MEDIA:
            images += n or 0
            paid_images += (n or 0) if paid else 0
            frames += (n or 0) if media == ANIMATION else 0
        if outcome in AVOIDED and paid:
            saved_images += n or 0
        video_seconds += seconds or 0.0
        paid_video_seconds += (seconds or 0.0) if paid else 0.0
    price_image, price_minute = ctx.settings.price_per_image, ctx.settings.price_per_video_minute
    spent = paid_images * price_image + paid_video_seconds / 60 * price_minute
    saved = saved_images * price_image
    section = Section("cost", "Media analysed and estimated cost", data={
        "images": images, "animation_frames": frames, "video_minutes": round(video_seconds / 60, 3),
        "estimated_usd": round(spent, 4), "saved_usd": round(saved, 4), "price_per_image": price_image,
        "price_per_video_minute": price_minute})
    section.rows = [
        ("images analysed", f"{images:,}"),
        ("  of which frames of animations", f"{frames:,} (one call each)"),
        ("video minutes analysed", f"{video_seconds / 60:,.1f}"),
        ("estimated cost", f"${spent:,.2f} ({paid_images:,} images x ${price_image:g}, "
                           f"{paid_video_seconds / 60:,.1f} video min x ${price_minute:g})"),
        ("saved by dedupe and banks", f"${saved:,.2f}"),
    ]
    return section
