"""`modq submit --subject`, subject_id in `--from` files, and `modq subjects show`."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select
from typer.testing import CliRunner

from moderation.cli.main import app
from moderation.infra.db import transaction
from moderation.items import models as m, services as service
from moderation.tenants import services as tenants
from tests.conftest import jpeg_bytes
from tests.fakes.providers import labels_for

runner = CliRunner()


def subjects_by_external_id(rt) -> dict[str | None, str | None]:
    with transaction(rt.settings.database_url) as s:
        return dict(s.execute(select(m.Item.external_id, m.Item.subject_id)).all())


def test_submit_with_a_subject(cli_env, media_root):
    (media_root / "a.jpg").write_bytes(jpeg_bytes())
    result = runner.invoke(app, ["submit", "a.jpg", "--external-id", "p-1", "--subject", "user-7"])
    assert result.exit_code == 0, result.stderr
    assert subjects_by_external_id(cli_env) == {"p-1": "user-7"}


def test_a_subject_with_from_is_a_usage_error(cli_env, tmp_path):
    (tmp_path / "x.ndjson").write_text("")
    result = runner.invoke(app, ["submit", "--from", str(tmp_path / "x.ndjson"), "--subject", "user-7"])
    assert result.exit_code == 2 and "--subject) or --from FILE, not both" in result.stderr


def test_from_files_carry_a_subject_per_line(cli_env, media_root, tmp_path):
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        (media_root / name).write_bytes(jpeg_bytes(color=(ord(name[0]), 1, 1)))
    (tmp_path / "items.ndjson").write_text('{"uri": "a.jpg", "external_id": "n-1", "subject_id": "user-7"}\n'
                                           '{"uri": "b.jpg", "external_id": "n-2", "subject_id": 7}\n'
                                           '{"uri": "b.jpg", "external_id": "n-3", "subject_id": "bell\\u0007"}\n')
    (tmp_path / "items.csv").write_text("uri,external_id,subject_id\nc.jpg,c-1,user-8\nc.jpg,c-2,\n")

    ndjson = runner.invoke(app, ["submit", "--from", str(tmp_path / "items.ndjson")])
    csv = runner.invoke(app, ["submit", "--from", str(tmp_path / "items.csv")])

    assert ndjson.exit_code == 1 and csv.exit_code == 0, csv.stderr
    assert "line 2: subject_id must be a string, not number" in ndjson.stderr
    assert "line 3: subject_id must not contain control characters" in ndjson.stderr
    assert subjects_by_external_id(cli_env) == {"n-1": "user-7", "c-1": "user-8", "c-2": None}


def test_subjects_show(cli_env, media_root, fake_provider):
    data = jpeg_bytes(color=(9, 9, 9))
    (media_root / "a.jpg").write_bytes(data)
    fake_provider.by_key[hashlib.sha256(data).hexdigest()] = labels_for("Hate Symbols", 95)
    item_id = service.submit("a.jpg", external_id="p-1", subject_id="user-7", rt=cli_env).item_id
    service.process_image(item_id, rt=cli_env)

    as_json = runner.invoke(app, ["subjects", "show", "user-7", "--json"])
    text = runner.invoke(app, ["subjects", "show", "user-7"])

    assert as_json.exit_code == 0, as_json.stderr
    view = json.loads(as_json.stdout)
    assert (view["tenant"], view["items"], view["counts"]["rejected"]) == ("default", 1, 1)
    assert view["latest"][0]["id"] == item_id and view["latest"][0]["external_id"] == "p-1"
    assert text.exit_code == 0 and "subject user-7 (tenant default): 1 items: rejected 1" in text.stdout


def test_subjects_show_is_per_tenant(cli_env, media_root):
    tenants.create(cli_env.settings.database_url, "other", "test")
    (media_root / "a.jpg").write_bytes(jpeg_bytes())
    service.submit("a.jpg", subject_id="user-7", rt=cli_env)
    result = runner.invoke(app, ["subjects", "show", "user-7", "--tenant", "other"])
    assert (result.exit_code, result.stdout) == (1, "")
    assert "no items with subject_id 'user-7' in tenant other" in result.stderr
    unknown = runner.invoke(app, ["subjects", "show", "user-7", "--tenant", "nobody"])
    assert unknown.exit_code == 2 and "tenant: no tenant named 'nobody'" in unknown.stderr
