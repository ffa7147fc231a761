"""Photos from the public web form: known by their content, stored without
anything but their pixels.

What a browser says a file is (its name, its content type) is whatever the
sender wants it to be, so the type is what Pillow finds in the bytes, and only
the decoders of the accepted formats are ever tried. A photo is decoded, turned
upright (EXIF orientation), brought to sRGB, cut down to :data:`MAX_SIDE` and
encoded again into a new image: the GPS position, the camera's serial number,
XMP, comments and colour profiles of the upload do not survive, nor does
anything a crafted file hid in them. What comes out is a
:class:`tracking.services.Photo`, stored by :func:`tracking.services.case_register`.
"""

from __future__ import annotations

import io
import logging
import warnings

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from ..services import Photo

logger = logging.getLogger(__name__)

#: The decoders tried (Pillow's names), and no other. Pillow's JPEG decoder also
#: reads MPO, how some phones' cameras write JPEG (with a second image in it).
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
#: Longest side kept: enough to read a sign or a number plate, not a poster.
MAX_SIDE = 2560
#: Pixels a photo may have before it is decoded (a 50-megapixel phone camera).
#: A small file of many pixels would take gigabytes once decoded: refused
#: before it is, with Pillow's own bomb check turned into an error as well.
MAX_PIXELS = 50_000_000
JPEG_QUALITY = 85

_SRGB = ImageCms.createProfile("sRGB")


class PhotoRefused(ValueError):
    """An upload that is not a photo this form takes; ``message`` says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _display_name(upload) -> str:
    name = str(getattr(upload, "name", "") or "")
    return name if len(name) <= 60 else f"{name[:57]}…"


def _refuse_type(upload) -> PhotoRefused:
    return PhotoRefused(
        _("“%(name)s” is not a JPEG, PNG, WebP or GIF image.")
        % {"name": _display_name(upload)}
    )


def _refuse_unreadable(upload) -> PhotoRefused:
    return PhotoRefused(
        _("“%(name)s” could not be read: the file is damaged or incomplete.")
        % {"name": _display_name(upload)}
    )


def _refuse_too_large(upload) -> PhotoRefused:
    return PhotoRefused(
        _("“%(name)s” has too many pixels; send a smaller photo.")
        % {"name": _display_name(upload)}
    )


def _read(upload) -> bytes:
    limit = settings.INTAKE_MAX_PHOTO_BYTES
    if upload.size is not None and upload.size > limit:
        raise PhotoRefused(
            _("“%(name)s” is larger than %(megabytes)s MB.")
            % {"name": _display_name(upload), "megabytes": limit // 2**20}
        )
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise PhotoRefused(
            _("“%(name)s” is larger than %(megabytes)s MB.")
            % {"name": _display_name(upload), "megabytes": limit // 2**20}
        )
    return data


def _upright(image: Image.Image) -> Image.Image:
    """Turned as the EXIF orientation says; a photo whose EXIF is broken is
    still a photo, kept as it is."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # Pillow's EXIF parser fails in many ways
        return image


def _in_srgb(image: Image.Image, alpha: bool) -> Image.Image:
    """The pixels in sRGB: once the colour profile is dropped, a wide-gamut or
    CMYK photo would otherwise look wrong."""
    mode = "RGBA" if alpha else "RGB"
    profile = image.info.get("icc_profile")
    if profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode=mode)
            if converted is not None:
                return converted
        except Exception:  # a broken profile: convert without it
            pass
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        # 16-bit and float greyscale: scaled to 8 bits before colour conversion.
        image = image.point(lambda value: value / 256).convert("L")
    return image.convert(mode)


def _decode(data: bytes, upload) -> Image.Image:
    image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    if image.width * image.height > MAX_PIXELS:
        raise _refuse_too_large(upload)
    if image.format in ("JPEG", "MPO"):
        # Let the JPEG decoder scale down by 1/2, 1/4 or 1/8 while decoding.
        image.draft(None, (MAX_SIDE, MAX_SIDE))
    image.load()  # the first frame of an animation; a truncated file raises here
    return image


def clean_photo(upload) -> Photo:
    """The photo in ``upload``, encoded again without metadata.

    Raises :class:`PhotoRefused` with a message for the sender.
    """
    data = _read(upload)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = _decode(data, upload)
            image = _upright(image)
            alpha = image.has_transparency_data
            image = _in_srgb(image, alpha)
            image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
            # A new image: nothing of the upload's info (EXIF, XMP, ICC, comments,
            # text chunks) can be written back by the encoder.
            clean = Image.new(image.mode, image.size)
            clean.paste(image)
            out = io.BytesIO()
            if alpha:
                clean.save(out, format="PNG", optimize=True)
            else:
                clean.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
        except PhotoRefused:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _refuse_too_large(upload) from None
        except UnidentifiedImageError:
            raise _refuse_type(upload) from None
        except Exception as exc:  # crafted files break decoders in many ways
            logger.info("photo refused: %s: %s", type(exc).__name__, exc)
            raise _refuse_unreadable(upload) from None
    if alpha:
        return Photo(out.getvalue(), "image/png", "png", *clean.size)
    return Photo(out.getvalue(), "image/jpeg", "jpg", *clean.size)
