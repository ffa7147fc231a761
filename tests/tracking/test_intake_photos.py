"""Photos sent with the web form: known by their content, stored without metadata,
refused with a clear message, and on refusal nothing is stored at all."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, ImageCms

from tests.tracking.test_intake import URL, counts, field_errors, valid
from tracking.intake.photos import MAX_PIXELS, MAX_SIDE, PhotoRefused, clean_photo
from tracking.models import Case, CaseAttachment

pytestmark = pytest.mark.django_db

NOTHING = {"Case": 0, "Citizen": 0, "CaseEvent": 0, "CaseAttachment": 0}


@pytest.fixture(autouse=True)
def _photos_in_a_directory_of_their_own(private_storage):
    return private_storage


def stored_files(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# --- making files ----------------------------------------------------------------


def encoded(image: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def photo_with_gps() -> bytes:
    """A camera's JPEG: turned (orientation 6), with GPS, make, XMP, a comment and
    a colour profile."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "PhoneCam"
    exif[ExifTags.Base.BodySerialNumber] = "SN-4711"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (36.0, 39.0, 4.4),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (117.0, 7.0, 12.1),
    }
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encoded(
        Image.new("RGB", (400, 200), (180, 30, 30)),
        "JPEG",
        exif=exif,
        comment="周建国家门口",
        icc_profile=icc,
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">secret</x:xmpmeta>',
    )


def png_with_alpha(size=(64, 48)) -> bytes:
    return encoded(Image.new("RGBA", size, (10, 120, 200, 128)), "PNG")


def jpeg(size=(640, 480)) -> bytes:
    return encoded(Image.new("RGB", size, (90, 90, 90)), "JPEG")


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` × ``height`` pixels: a bomb's shape,
    cheap to make."""
    data = bytearray(encoded(Image.new("L", (1, 1)), "PNG"))
    # Signature (8), length (4), b"IHDR" (4), then width and height.
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def upload(content: bytes, name="photo.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, content, content_type)


def send(client, *files, **fields):
    return client.post(URL, {**valid(**fields), "photos": list(files)})


def reopened(attachment: CaseAttachment) -> Image.Image:
    with attachment.file.open("rb") as stored:
        return Image.open(io.BytesIO(stored.read()))


# --- what is stored ----------------------------------------------------------------


def test_a_cameras_photo_is_stored_upright_without_metadata(client, private_storage):
    source = Image.open(io.BytesIO(photo_with_gps()))
    assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo), "the test photo has GPS"

    response = send(client, upload(photo_with_gps(), name="周建国家门口.jpg"))

    assert response.status_code == 302
    attachment = CaseAttachment.objects.get()
    image = reopened(attachment)
    assert image.format == "JPEG"
    assert (image.width, image.height) == (200, 400), "turned as EXIF said"
    assert (attachment.width, attachment.height) == (200, 400)
    assert attachment.content_type == "image/jpeg"
    assert not image.getexif()
    for key in ("exif", "xmp", "icc_profile", "comment", "XML:com.adobe.xmp"):
        assert key not in image.info, key
    raw = attachment.file.open("rb").read()
    for secret in (b"PhoneCam", b"SN-4711", b"secret", "周建国".encode()):
        assert secret not in raw
    # A generated name: nothing of the sender's file name survives.
    assert "周建国" not in attachment.file.name
    assert attachment.file.name.startswith("case-photos/")
    assert [p.name for p in stored_files(private_storage)] == [
        attachment.file.name.rsplit("/", 1)[-1]
    ]


def test_a_png_named_jpg_is_taken_as_the_png_it_is(client):
    response = send(client, upload(png_with_alpha(), name="screenshot.jpg"))
    assert response.status_code == 302
    attachment = CaseAttachment.objects.get()
    assert attachment.content_type == "image/png"
    assert attachment.file.name.endswith(".png")
    image = reopened(attachment)
    assert image.format == "PNG"
    assert image.mode == "RGBA"


def test_the_browsers_content_type_is_not_believed():
    photo = clean_photo(upload(jpeg(), name="x.png", content_type="image/png"))
    assert (photo.content_type, photo.extension) == ("image/jpeg", "jpg")


@pytest.mark.parametrize(
    ("content", "mode"),
    [
        (encoded(Image.new("RGB", (30, 20)), "WEBP"), "RGB"),
        (encoded(Image.new("RGB", (30, 20)), "PNG"), "RGB"),
        (encoded(Image.new("L", (30, 20)), "PNG"), "RGB"),
        (encoded(Image.new("CMYK", (30, 20)), "JPEG"), "RGB"),
        (encoded(Image.new("I;16", (30, 20)), "PNG"), "RGB"),
        (encoded(Image.new("P", (30, 20)), "GIF", transparency=0), "RGBA"),
    ],
    ids=["webp", "png", "grey png", "cmyk jpeg", "16-bit png", "gif"],
)
def test_other_photo_formats_are_taken_and_encoded_again(content, mode):
    photo = clean_photo(upload(content))
    image = Image.open(io.BytesIO(photo.content))
    assert image.format == ("PNG" if mode == "RGBA" else "JPEG")
    assert image.mode == mode
    assert (photo.width, photo.height) == (30, 20)


def test_the_first_frame_of_an_animation_is_kept():
    frames = [Image.new("RGB", (20, 20), colour) for colour in ("red", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:])
    image = Image.open(io.BytesIO(clean_photo(upload(out.getvalue())).content))
    red, green, blue = image.convert("RGB").getpixel((10, 10))
    assert red > 200 and blue < 50


def test_a_large_photo_is_cut_down_to_the_longest_side():
    photo = clean_photo(upload(jpeg((6000, 3000))))
    assert (photo.width, photo.height) == (MAX_SIDE, MAX_SIDE // 2)


def test_up_to_the_limit_of_photos_are_stored_with_the_case(client, private_storage):
    response = send(client, upload(jpeg()), upload(png_with_alpha()), upload(jpeg()))
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.attachments.count() == 3
    assert len(stored_files(private_storage)) == 3


# --- what is refused ---------------------------------------------------------------


def assert_nothing_stored(private_storage):
    assert counts() == NOTHING
    assert stored_files(private_storage) == []


def test_a_text_file_named_jpg_is_refused(client, private_storage):
    response = send(client, upload(b"just some text, not a photo", name="photo.jpg"))
    assert response.status_code == 400
    assert "“photo.jpg”不是 JPEG、PNG、WebP 或 GIF 格式的图片。" in field_errors(
        response, "photos"
    )
    assert_nothing_stored(private_storage)


@pytest.mark.parametrize(
    "content",
    [
        encoded(Image.new("RGB", (30, 20)), "BMP"),
        encoded(Image.new("RGB", (30, 20)), "TIFF"),
        b"%PDF-1.7\n",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    ],
    ids=["bmp", "tiff", "pdf", "svg"],
)
def test_images_of_other_formats_are_refused(client, private_storage, content):
    response = send(client, upload(content, name="x.jpg"))
    assert response.status_code == 400
    assert "不是 JPEG、PNG、WebP 或 GIF 格式的图片" in field_errors(response, "photos")
    assert_nothing_stored(private_storage)


def test_a_photo_over_the_size_limit_is_refused(client, private_storage, settings):
    too_big = jpeg() + b"\0" * (settings.INTAKE_MAX_PHOTO_BYTES - len(jpeg()) + 1)
    response = send(client, upload(jpeg()), upload(too_big, name="big.jpg"))
    assert response.status_code == 400
    assert "“big.jpg”超过 5 MB。" in field_errors(response, "photos")
    assert_nothing_stored(private_storage)


def test_a_photo_just_at_the_size_limit_is_taken(client, settings):
    exactly = jpeg() + b"\0" * (settings.INTAKE_MAX_PHOTO_BYTES - len(jpeg()))
    assert send(client, upload(exactly)).status_code == 302


def test_more_photos_than_the_limit_are_refused(client, private_storage):
    response = send(client, *(upload(jpeg(), name=f"{n}.jpg") for n in range(4)))
    assert response.status_code == 400
    assert "最多只能上传 3 张照片。" in field_errors(response, "photos")
    assert_nothing_stored(private_storage)


@pytest.mark.parametrize(
    ("width", "height"),
    [
        # Over this form's limit, under Pillow's own warning.
        (8000, 8000),
        # Over twice Pillow's limit: its DecompressionBombError.
        (20000, 20000),
    ],
)
def test_a_decompression_bomb_is_refused_before_it_is_decoded(
    client, private_storage, width, height
):
    assert width * height > MAX_PIXELS
    response = send(client, upload(png_claiming(width, height), name="bomb.png"))
    assert response.status_code == 400
    assert "“bomb.png”像素过多，请上传较小的照片。" in field_errors(response, "photos")
    assert_nothing_stored(private_storage)


def test_pillows_bomb_warning_is_an_error(monkeypatch):
    # 400 pixels: over the limit (a warning), under twice it (not yet an error).
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 300)
    with pytest.raises(PhotoRefused, match="像素过多|too many pixels"):
        clean_photo(upload(jpeg((20, 20))))


def test_a_truncated_photo_is_refused(client, private_storage):
    whole = jpeg((800, 600))
    response = send(client, upload(whole[: len(whole) // 2], name="cut.jpg"))
    assert response.status_code == 400
    assert "无法读取“cut.jpg”：文件已损坏或不完整。" in field_errors(response, "photos")
    assert_nothing_stored(private_storage)


def test_an_empty_file_is_refused(client, private_storage):
    response = send(client, upload(b"", name="empty.jpg"))
    assert response.status_code == 400
    assert field_errors(response, "photos")
    assert_nothing_stored(private_storage)


def test_one_bad_photo_refuses_the_whole_request(client, private_storage):
    response = send(client, upload(jpeg()), upload(b"GIF89a broken", name="b.gif"))
    assert response.status_code == 400
    assert "b.gif" in field_errors(response, "photos")
    assert_nothing_stored(private_storage)
