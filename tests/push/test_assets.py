"""The assets stage: codes from file names, unique and stable; files made into assets in the
sandbox over real loopback HTTP (a local image server), once per file, remembered across
runs; what a row's line becomes when some of its files fail."""

from __future__ import annotations

import doctest
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import settings_of
from imageserver import (
    DOWNLOAD,
    GET_ASSET,
    JPEG,
    JPEG_BACK,
    LOCAL,
    PATCH_ASSETS,
    PNG,
    UPLOAD,
    ImageServer,
    asset_requests,
    assets_catalog,
    images,
)

from feed_export.akeneo.client import AkeneoClient
from feed_export.catalog import asset_codecs
from feed_export.push import assets as assets_module
from feed_export.push.assets import (
    AssetDone,
    AssetNamer,
    AssetStage,
    AssetTask,
    code_from_name,
    rewrite_line,
)
from feed_export.push.decode import AssetRef, MediaRef
from feed_export.push.files import MediaLimits
from feed_export.sandbox import Sandbox, start_sandbox

PACKSHOT_TYPES = frozenset({"jpg", "jpeg", "png", "gif", "webp"})


@pytest.fixture
def server() -> Iterator[ImageServer]:
    with images() as found:
        yield found


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with start_sandbox(catalog=assets_catalog()) as sandbox:
        yield sandbox


@pytest.fixture
def client(sb: Sandbox) -> Iterator[AkeneoClient]:
    with AkeneoClient(settings_of(sb)) as found:
        yield found


def make_stage(client: AkeneoClient, folder: Path, **options: Any) -> AssetStage:
    limits = MediaLimits(allow_hosts=LOCAL, read_timeout=5)
    return AssetStage.for_folder(client, folder, "sandbox", limits=limits, **options)


def file_ref(source: str, header: str = "packshots", attribute: str = "media") -> MediaRef:
    kind = "url" if source.startswith("http") else "path"
    return MediaRef(attribute, None, None, source, kind, header, PACKSHOT_TYPES, 10 << 20, True)  # type: ignore[arg-type]


def ref(
    stage: AssetStage | None,
    source: str,
    *,
    family: str = "packshots",
    code: str | None = None,
    mode: str = "asset",
    link: str | None = None,
) -> AssetRef:
    """An asset collection item as the decoder makes it (the code from the stage's namer)."""
    attribute = "url" if family == "links" else "media"
    header = "links" if family == "links" else "packshots"
    file = file_ref(source, header, attribute)
    named = code is not None
    if code is None:
        assert stage is not None
        code = stage.namer.code(family, file)
    return AssetRef(mode, family, code, named, file, header, None, None, link)  # type: ignore[arg-type]


def apply(stage: AssetStage, *refs: AssetRef) -> tuple[AssetDone, ...]:
    return stage.apply(AssetTask(2, "TS-1", refs))


def media_of(sb: Sandbox, family: str, code: str) -> bytes | None:
    asset = sb.state.asset(family, code)
    if asset is None:
        return None
    (entry,) = asset["values"]["media"]
    stored = sb.state.asset_media_file(entry["data"])
    assert stored is not None
    return stored.content


# -- codes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("front.jpg", "front"),
        ("Front view.JPG", "Frontview"),
        ("été-2024.png", "ete_2024"),
        ("a.b.c.jpg", "a_b_c"),
        ("no_extension", "no_extension"),
        (".png", "asset"),
        ("", "asset"),
        ("日本.png", "__"),
        ("100% cotton.jpg", "100_cotton"),
        ("x" * 300 + ".png", "x" * 255),
        ("TS-1001 back.jpg", "TS_1001back"),  # the README's example
    ],
    ids=[
        "plain",
        "space-dropped",
        "accent-and-dash",
        "inner-dots",
        "no-extension",
        "only-an-extension",
        "empty",
        "not-latin",
        "percent",
        "too-long",
        "readme",
    ],
)
def test_codes_from_file_names(name: str, code: str) -> None:
    assert code_from_name(name) == code
    assert assets_module.is_asset_code(code)


def test_the_module_examples() -> None:
    assert doctest.testmod(assets_module, raise_on_error=True).attempted >= 2
    assert doctest.testmod(asset_codecs, raise_on_error=True).attempted >= 10


def test_the_same_file_keeps_its_code_and_another_file_of_that_name_gets_a_suffix(
    tmp_path: Path,
) -> None:
    namer = AssetNamer(tmp_path)
    first = namer.code("packshots", file_ref("https://cdn.test/a/front.jpg"))
    other = namer.code("packshots", file_ref("https://cdn.test/b/front.jpg"))
    again = namer.code("PACKSHOTS", file_ref("https://cdn.test/a/front.jpg"))
    assert (first, again) == ("front", "front")
    assert other == assets_module.suffixed("front", "https://cdn.test/b/front.jpg")
    assert other.startswith("front_") and len(other) == len("front_") + 8
    # another family is another namespace; a path and its spelling with ./ are one file
    assert namer.code("links", file_ref("https://cdn.test/b/front.jpg")) == "front"
    # a path is hashed relative to the feed's folder: the code does not depend on where
    # the folder is
    assert namer.code("packshots", file_ref("img/FRONT.jpg")) == assets_module.suffixed(
        "FRONT", "img/FRONT.jpg"
    )
    assert namer.code("packshots", file_ref("./img/../img/FRONT.jpg")) == namer.code(
        "packshots", file_ref("img/FRONT.jpg")
    )


def test_codes_are_stable_from_run_to_run_whatever_the_order(tmp_path: Path) -> None:
    a, b = "https://cdn.test/a/front.jpg", "https://cdn.test/b/front.jpg"
    first = AssetNamer(tmp_path)
    codes = {source: first.code("packshots", file_ref(source)) for source in (a, b)}
    # the next run knows what the last one made (the cache) and meets b first
    claims = [("packshots", source, code) for source, code in codes.items()]
    later = AssetNamer(tmp_path, claims=claims)
    assert later.code("packshots", file_ref(b)) == codes[b]
    assert later.code("packshots", file_ref(a)) == codes[a] == "front"


def test_a_named_code_is_taken(tmp_path: Path) -> None:
    namer = AssetNamer(tmp_path)
    namer.claim("packshots", "https://cdn.test/x.jpg", "front")
    assert namer.code("packshots", file_ref("https://cdn.test/y/front.jpg")).startswith("front_")


# -- the stage against the sandbox ------------------------------------------------------


def test_a_url_becomes_an_asset_with_its_file(
    client: AkeneoClient, sb: Sandbox, server: ImageServer, tmp_path: Path
) -> None:
    stage = make_stage(client, tmp_path)
    (done,) = apply(stage, ref(stage, server.url("/tees/front.jpg")))
    assert done == AssetDone(201, code="front")
    assert media_of(sb, "packshots", "front") == JPEG
    stage.close()
    assert asset_requests(sb) == {UPLOAD: 1, PATCH_ASSETS: 1, GET_ASSET: 1}


def test_a_path_beside_the_feed_becomes_an_asset(
    client: AkeneoClient, sb: Sandbox, tmp_path: Path
) -> None:
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "care label.png").write_bytes(PNG)
    stage = make_stage(client, tmp_path)
    (done,) = apply(stage, ref(stage, "img/care label.png"))
    assert done.ok and done.code == "carelabel"
    assert media_of(sb, "packshots", "carelabel") == PNG


@pytest.mark.parametrize(
    ("source", "status", "why"),
    [
        ("/missing.png", 422, "404 Not Found"),
        ("/notes.txt", 422, "not an image: the server sent text/plain"),
    ],
    ids=["404", "not-an-image"],
)
def test_a_file_that_cannot_be_had_names_its_source(
    client: AkeneoClient, sb: Sandbox, server: ImageServer, tmp_path: Path,
    source: str, status: int, why: str,
) -> None:  # fmt: skip
    stage = make_stage(client, tmp_path)
    url = server.url(source)
    (done,) = apply(stage, ref(stage, url))
    assert done == AssetDone(status, f"packshots: {url}: {why}")
    assert asset_requests(sb) == {}  # nothing was sent


def test_a_path_outside_the_feeds_folder_is_refused(client: AkeneoClient, tmp_path: Path) -> None:
    stage = make_stage(client, tmp_path)
    (done,) = apply(stage, ref(stage, "../secret.jpg"))
    assert done.status == 422
    assert done.message == (
        "packshots: ../secret.jpg: the path leads outside the feed's folder: only files "
        "inside it are read"
    )


def test_the_same_file_on_many_rows_is_fetched_uploaded_and_made_once(
    client: AkeneoClient, sb: Sandbox, server: ImageServer, tmp_path: Path
) -> None:
    stage = make_stage(client, tmp_path)
    url = server.url("/tees/front.jpg")
    results = [apply(stage, ref(stage, url)) for _ in range(3)]
    assert {done for (done,) in results} == {AssetDone(201, code="front")}
    assert server.bodies == {"/tees/front.jpg": 1}
    assert asset_requests(sb) == {UPLOAD: 1, PATCH_ASSETS: 1, GET_ASSET: 1}
    assert stage.stats["downloads"] == 1


def test_two_files_of_one_name_become_two_assets(
    client: AkeneoClient, sb: Sandbox, server: ImageServer, tmp_path: Path
) -> None:
    stage = make_stage(client, tmp_path)
    first, second = server.url("/tees/front.jpg"), server.url("/other/front.jpg")
    (a,) = apply(stage, ref(stage, first))
    (b,) = apply(stage, ref(stage, second))
    assert a.code == "front" and b.code == assets_module.suffixed("front", second)
    assert media_of(sb, "packshots", "front") == JPEG
    assert b.code is not None and media_of(sb, "packshots", b.code) == JPEG_BACK


def test_a_media_link_family_takes_the_url_and_fetches_nothing(
    client: AkeneoClient, sb: Sandbox, server: ImageServer, tmp_path: Path
) -> None:
    stage = make_stage(client, tmp_path)
    url = server.url("/tees/front.jpg")
    (done,) = apply(stage, ref(stage, url, family="links", link=url))
    assert done == AssetDone(201, code="front")
    asset = sb.state.asset("links", "front")
    assert asset is not None and asset["values"]["url"] == [
        {"locale": None, "channel": None, "data": url}
    ]
    assert server.hits == {}
    assert UPLOAD not in asset_requests(sb)


def test_an_unchanged_file_sends_nothing_on_the_next_run(
    client: AkeneoClient, sb: Sandbox, server: ImageServer, tmp_path: Path
) -> None:
    url, link = server.url("/tees/front.jpg"), server.url("/tees/back.jpg")
    first = make_stage(client, tmp_path)
    apply(first, ref(first, url), ref(first, link, family="links", link=link))
    first.close()
    before = asset_requests(sb)
    second = make_stage(client, tmp_path)
    done = apply(second, ref(second, url), ref(second, link, family="links", link=link))
    second.close()
    assert done == (AssetDone(200, code="front"), AssetDone(200, code="back"))
    assert asset_requests(sb) == before  # not one asset request
    assert server.hits["/tees/front.jpg"] == 2 and server.bodies["/tees/front.jpg"] == 1  # a 304
    assert second.stats["cache_hits"] == 2


def test_full_sends_everything_again(
    client: AkeneoClient, sb: Sandbox, server: ImageServer, tmp_path: Path
) -> None:
    url = server.url("/tees/front.jpg")
    first = make_stage(client, tmp_path)
    apply(first, ref(first, url))
    first.close()
    again = make_stage(client, tmp_path, full=True)
    (done,) = apply(again, ref(again, url))
    assert done == AssetDone(204, code="front")
    assert asset_requests(sb)[UPLOAD] == 2


def test_an_asset_of_the_pim_with_the_same_file_is_used_as_it_is(
    client: AkeneoClient, sb: Sandbox, server: ImageServer, tmp_path: Path
) -> None:
    url = server.url("/tees/front.jpg")
    made = make_stage(client, tmp_path / "elsewhere")  # another folder: another cache
    apply(made, ref(made, url))
    before = asset_requests(sb)
    stage = make_stage(client, tmp_path)
    (done,) = apply(stage, ref(stage, url))
    stage.close()
    assert done == AssetDone(200, code="front")
    after = asset_requests(sb)
    assert after[UPLOAD] == before[UPLOAD] and after[PATCH_ASSETS] == before[PATCH_ASSETS]
    assert after[DOWNLOAD] == 1  # compared with the PIM's file
    # and remembered: the next run asks nothing
    third = make_stage(client, tmp_path)
    assert apply(third, ref(third, url)) == (AssetDone(200, code="front"),)
    assert asset_requests(sb) == after


def test_an_asset_of_the_pim_with_another_file_is_never_overwritten(
    client: AkeneoClient, sb: Sandbox, server: ImageServer, tmp_path: Path
) -> None:
    other = make_stage(client, tmp_path / "elsewhere")
    apply(other, ref(other, server.url("/other/front.jpg")))  # "front" holds another file
    stage = make_stage(client, tmp_path)
    url = server.url("/tees/front.jpg")
    (done,) = apply(stage, ref(stage, url))
    stage.close()
    renamed = assets_module.suffixed("front", url)
    assert done == AssetDone(201, code=renamed)
    assert media_of(sb, "packshots", "front") == JPEG_BACK
    assert media_of(sb, "packshots", renamed) == JPEG
    # the next run names it so from the start
    later = make_stage(client, tmp_path)
    assert later.namer.code("packshots", file_ref(url)) == renamed


def test_a_named_code_is_written_whatever_the_pim_holds(
    client: AkeneoClient, sb: Sandbox, server: ImageServer, tmp_path: Path
) -> None:
    other = make_stage(client, tmp_path / "elsewhere")
    apply(other, ref(other, server.url("/other/front.jpg")))
    stage = make_stage(client, tmp_path)
    (done,) = apply(stage, ref(stage, server.url("/tees/front.jpg"), code="front"))
    assert done == AssetDone(204, code="front")
    assert media_of(sb, "packshots", "front") == JPEG


def test_an_assets_feeds_main_media_is_uploaded_for_the_line(
    client: AkeneoClient, sb: Sandbox, server: ImageServer, tmp_path: Path
) -> None:
    url = server.url("/tees/front.jpg")
    stage = make_stage(client, tmp_path)
    (done,) = apply(stage, ref(None, url, code="tee_front", mode="media"))
    assert done.status == 201 and done.code is None and done.media is not None
    stored = sb.state.asset_media_file(done.media)
    assert stored is not None and stored.content == JPEG
    assert asset_requests(sb) == {UPLOAD: 1}  # the asset itself is the row's line
    stage.close()
    again = make_stage(client, tmp_path)
    assert apply(again, ref(None, url, code="tee_front", mode="media")) == (
        AssetDone(200, media=done.media),
    )
    assert asset_requests(sb) == {UPLOAD: 1}


def test_a_refused_asset_names_the_pims_reason(
    client: AkeneoClient, sb: Sandbox, tmp_path: Path
) -> None:
    (tmp_path / "front.exe").write_bytes(JPEG)
    stage = make_stage(client, tmp_path)
    file = MediaRef("media", None, None, "front.exe", "path", "packshots", frozenset(), None, False)
    item = AssetRef("asset", "packshots", "front", False, file, "packshots", None, None)
    (done,) = apply(stage, item)
    assert done.status == 422
    assert done.message.startswith("packshots: front.exe: asset front not saved: The asset has ")
    assert '"exe" files are not allowed for this attribute.' in done.message


# -- the line once its assets are made ---------------------------------------------------


def product(*values: tuple[str, list[str]]) -> bytes:
    return orjson.dumps(
        {
            "identifier": "TS-1",
            "values": {
                code: [{"locale": None, "scope": None, "data": data}] for code, data in values
            },
        }
    )


def item(code: str, attribute: str = "packshots", mode: str = "asset") -> AssetRef:
    return AssetRef(mode, "packshots", code, False, file_ref(f"{code}.jpg"), attribute, None, None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("body", "done", "expected"),
    [
        (product(("packshots", ["a", "b"])), [(item("a"), AssetDone(201, code="a"))], None),
        (
            product(("packshots", ["a", "b"])),
            [(item("a"), AssetDone(422, "x"))],
            product(("packshots", ["b"])),
        ),
        (
            product(("packshots", ["a"]), ("name", ["n"])),
            [(item("a"), AssetDone(0, "x"))],
            product(("name", ["n"])),
        ),
        (
            product(("packshots", ["a"])),
            [(item("a"), AssetDone(404, "x"))],
            b'{"identifier":"TS-1"}',
        ),
        (
            product(("packshots", ["a", "a_1234abcd"])),
            [(item("a"), AssetDone(201, code="a_1234abcd"))],
            product(("packshots", ["a_1234abcd"])),
        ),
        (
            product(("packshots", ["A", "b"])),
            [(item("a"), AssetDone(200, code="a_9"))],
            product(("packshots", ["a_9", "b"])),
        ),
    ],
    ids=["all-made", "one-failed", "only-one-failed", "nothing-left", "renamed-twice", "any-case"],
)
def test_the_line_goes_with_the_assets_that_exist(
    body: bytes, done: list[tuple[AssetRef, AssetDone]], expected: bytes | None
) -> None:
    assert rewrite_line(body, done) == (body if expected is None else expected)


def test_an_uploaded_file_becomes_the_assets_value() -> None:
    body = orjson.dumps(
        {"code": "x", "values": {"media": [{"locale": None, "channel": None, "data": ""}]}}
    )
    ref = AssetRef("media", "packshots", "x", True, file_ref("x.jpg"), "media", None, None)
    done = rewrite_line(body, [(ref, AssetDone(201, media="1/2/3/4/abc_x.jpg"))])
    assert orjson.loads(done)["values"]["media"][0]["data"] == "1/2/3/4/abc_x.jpg"
    assert rewrite_line(body, [(ref, AssetDone(404, "x"))]) == b'{"code":"x"}'
