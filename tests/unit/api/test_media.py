"""Media through the API: streamed after the auth check, or a presigned S3 URL."""

from __future__ import annotations

import os

from moderation.items import services as service
from tests.conftest import jpeg_bytes


def test_local_image_is_streamed_with_a_sniffed_type(client, auth, rt, media_root, flagged):
    item_id = flagged()
    response = client.get(f"/v1/items/{item_id}/media", headers=auth["reviewer"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == "private, no-store"
    assert "sandbox" in response.headers["content-security-policy"]
    assert response.content[:3] == b"\xff\xd8\xff"
    ranged = client.get(f"/v1/items/{item_id}/media", headers={**auth["reviewer"], "Range": "bytes=0-9"})
    assert ranged.status_code == 206 and len(ranged.content) == 10  # videos can seek


def test_unrecognised_content_is_an_attachment(client, auth, rt, media_root):
    (media_root / "odd.jpg").write_bytes(b"<html><script>alert(1)</script></html>")
    item_id = service.submit("odd.jpg", rt=rt).item_id
    response = client.get(f"/v1/items/{item_id}/media", headers=auth["reviewer"])
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith("attachment")


def test_a_file_swapped_for_a_link_out_of_the_root_is_not_served(client, auth, rt, media_root, tmp_path):
    (media_root / "a.jpg").write_bytes(jpeg_bytes())
    item_id = service.submit("a.jpg", rt=rt).item_id
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(jpeg_bytes(color=(1, 2, 3)))
    os.remove(media_root / "a.jpg")
    os.symlink(secret, media_root / "a.jpg")
    response = client.get(f"/v1/items/{item_id}/media", headers=auth["reviewer"])
    assert response.status_code == 404 and "no longer available" in response.json()["message"]


def test_deleted_file_is_404(client, auth, rt, media_root):
    (media_root / "gone.jpg").write_bytes(jpeg_bytes())
    item_id = service.submit("gone.jpg", rt=rt).item_id
    (media_root / "gone.jpg").unlink()
    assert client.get(f"/v1/items/{item_id}/media", headers=auth["reviewer"]).status_code == 404


def test_s3_media_is_a_short_lived_presigned_redirect(client, auth, rt):
    item_id = service.submit("s3://ugc-uploads/2026/cat.jpg?versionId=v7", rt=rt).item_id
    response = client.get(f"/v1/items/{item_id}/media", headers=auth["reviewer"], follow_redirects=False)
    assert response.status_code == 307 and response.headers["cache-control"] == "no-store"
    url = response.headers["location"]
    assert "ugc-uploads" in url and "2026/cat.jpg" in url and "versionId=v7" in url
    assert "X-Amz-Expires=300" in url and "X-Amz-Signature=" in url


def test_unknown_item_media_is_404(client, auth):
    assert client.get("/v1/items/nope/media", headers=auth["reviewer"]).status_code == 404
