"""Feed file -> rows of text cells: CSV/TSV (optionally gzip) via ``csv``, XLSX via calamine.

Why the ``csv`` module and not pandas: it returns every cell exactly as written (no type
inference, ``007`` stays ``007``, ``NA`` stays ``NA``), runs at C speed and streams, so
memory stays flat whatever the number of rows. Each CSV record becomes a ``Row`` with no
per-cell Python work.

Nothing may be sent from a feed that would fail halfway, so ``open_feed`` checks a CSV
completely before the first row is handed out: one streaming pass decodes every byte and
parses every record (about 3 µs a row), so an undecodable byte, a NUL byte (binary data,
wherever it sits), a record the ``csv`` module refuses, or a quote that is never closed (which
would swallow the rest of the file into one cell) is a ``FeedReadError`` up front. The rows
are then read in a second streaming pass.

Decisions where the contract is silent:
- Row 1 is the header. A blank row 1 is an error (``remove the empty rows above the
  header``) rather than a guess, so row numbers always match what Excel shows.
- Rows are yielded raw: ragged rows keep their length, blank rows are yielded (``is_blank``
  tells) because they still get a feedback row.
- XLSX: the first visible worksheet unless ``sheet`` names one. calamine gives the cached
  value of a formula (a formula never calculated, e.g. written by openpyxl, reads as empty),
  an error value such as ``#DIV/0!`` as empty (so nothing is sent for it), and the value
  of a merged range in its top-left cell only. Empty columns left of the data
  are kept as empty cells so columns line up with the sheet. calamine holds the sheet in
  memory (XLSX is at most 1,048,576 rows); rows are still converted one at a time.
- Typed XLSX cells become text as a person reads them: numbers with at most 15 significant
  digits, as Excel shows them (``12.0`` -> ``12``, a computed ``0.30000000000000004`` ->
  ``0.3``), never in scientific notation between 1e-7 and 1e21; dates ``YYYY-MM-DD``;
  datetimes ISO-8601; times ``HH:MM:SS``; durations ``[h]:mm:ss``; booleans ``true``/``false``.
- Without ``encoding``: UTF-8 (a UTF-8 BOM is dropped and remembered so the feedback file
  gets one too); a UTF-16 BOM (Excel's "Unicode text") selects UTF-16. ``utf-16`` or
  ``utf-32`` given for a file without a BOM is an error asking for ``-le`` or ``-be``
  rather than a guess at the byte order.
- A NUL byte anywhere in a CSV (not UTF-16/32) refuses the file, naming its line: it is
  binary data, not text, whether it sits in the first line or the millionth.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import io
import itertools
import logging
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal

from python_calamine import (
    CalamineError,
    CalamineWorkbook,
    PasswordError,
    SheetTypeEnum,
    SheetVisibleEnum,
)

from feed_export.errors import ConfigError, FeedReadError

log = logging.getLogger(__name__)

#: largest cell the CSV reader accepts (the csv module's default is 128 KiB)
MAX_CELL_CHARS = 50 * 1024 * 1024
#: delimiters tried when none is given, in order of preference on a tie
DELIMITERS = (",", ";", "\t", "|")

_CHUNK = 1 << 20
_GUARD_CHUNK = 64 * 1024  # small: memory stays flat while the whole file is checked
_UTF8_BOM = codecs.BOM_UTF8
_SENTINEL = "\x00feed_export end of file\x00"
_DELIMITER_NAMES = {
    "\\t": "\t",
    "tab": "\t",
    "TAB": "\t",
    "comma": ",",
    "semicolon": ";",
    "pipe": "|",
}
# first bytes of files people mistake for feeds, to say what they are
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0", "a legacy Excel 97-2003 workbook (.xls); save it as .xlsx or CSV"),
    (b"7z\xbc\xaf", "a 7-Zip archive; extract the feed first"),
    (b"Rar!", "a RAR archive; extract the feed first"),
    (b"BZh", "a bzip2 archive; decompress it first, or use gzip (.csv.gz)"),
    (b"\xfd7zXZ", "an xz archive; decompress it first, or use gzip (.csv.gz)"),
)


@dataclass(frozen=True, slots=True)
class Row:
    """One record of the feed: its spreadsheet row number and its cells as text."""

    number: int  # header is 1, first data row is 2
    cells: tuple[str, ...]  # every cell as text, exactly as read (ragged rows kept ragged)


@dataclass(frozen=True, slots=True)
class FeedFormat:
    """How a feed is stored, so the feedback file can be written the same way."""

    kind: Literal["csv", "xlsx"]
    delimiter: str = ","
    encoding: str = "utf-8"  # the codec used to read (utf-8 also when a BOM was present)
    bom: bool = False  # the file began with a UTF-8 BOM
    gzip: bool = False
    sheet: str | None = None  # xlsx: the sheet read
    line_end: str = "\r\n"  # csv: the header's line ending, reused for the feedback file


class Feed:
    """An open feed: its format, its header, one validation pass and one pass over its rows.

    ``check(watch)`` reads the whole feed once to prove it can be read to the end (a CSV
    is decoded and parsed completely), handing every data row to ``watch`` when one is
    given; ``rows()`` is the pass that sends, and runs ``check()`` first if nobody did, so
    no row is handed out from a feed that would fail halfway.
    """

    def __init__(
        self,
        path: Path,
        fmt: FeedFormat,
        header: tuple[str, ...],
        rows: Callable[[], Iterator[Row]],
        close: Callable[[], None],
        check: Callable[[Callable[[Row], None] | None], None] | None = None,
    ) -> None:
        self.path = path
        self.format = fmt
        self.header = header
        self._rows: Callable[[], Iterator[Row]] | None = rows
        self._close = close
        self._check = check

    @property
    def checked(self) -> bool:
        """Whether the validation pass has run (it runs once)."""
        return self._check is None

    def check(self, watch: Callable[[Row], None] | None = None) -> None:
        """The validation pass: read every row once; ``watch`` sees each data row.

        Raises ``FeedReadError`` naming the row (and byte) that cannot be read. Without a
        ``watch``, a format that needs no pass for validation (XLSX, rows in memory) is
        not read at all.
        """
        check, self._check = self._check, None
        if check is None:
            raise RuntimeError(f"{self.path}: the feed was checked already")
        check(watch)

    def rows(self) -> Iterator[Row]:
        """The data rows (blank ones included), numbered from 2; can be iterated once."""
        if self._rows is None:
            raise RuntimeError(f"{self.path}: Feed.rows() can be iterated only once")
        if self._check is not None:
            self.check()
        rows, self._rows = self._rows, None
        return rows()

    def close(self) -> None:
        """Release the file; safe to call twice."""
        close, self._close = self._close, _nothing
        close()

    def __enter__(self) -> Feed:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _nothing() -> None:
    pass


def is_blank(cells: Sequence[str]) -> bool:
    """True if every cell is empty or whitespace (such a row is skipped, not sent)."""
    return not "".join(cells).strip()


def open_feed(
    path: Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    check: bool = True,
) -> Feed:
    """Open a CSV/TSV (optionally gzip) or XLSX feed and read its header row.

    Raises ``FeedReadError`` when the file cannot be read as a table and ``ConfigError``
    for an unknown encoding or a delimiter that is not one character. With ``check`` (the
    default) the whole file is validated before this returns; without, the caller runs
    ``Feed.check`` (the validation pass, with a row watcher if it needs one) before
    ``rows()``, which otherwise runs it.

    >>> with open_feed(Path("feeds/apparel.csv")) as feed:  # doctest: +SKIP
    ...     feed.header, [row.number for row in feed.rows()]
    (('sku', 'name~en_US'), [2, 3])
    """
    path = Path(path)
    magic = check_feed_file(path)
    if magic.startswith(b"PK\x03\x04"):
        _check_workbook_zip(path)
        if encoding is not None or delimiter is not None:
            log.warning("%s: an XLSX workbook: --encoding and --delimiter are ignored", path)
        feed = _open_xlsx(path, sheet)
    elif path.suffix.lower() in {".xlsx", ".xlsm"}:
        raise FeedReadError(
            f"{path}: named {path.suffix} but not an XLSX workbook (it is not a zip archive); "
            "if it is a CSV file, rename it to .csv"
        )
    else:
        if sheet is not None:
            log.warning("%s: not a workbook: the sheet option %r is ignored", path, sheet)
        feed = _open_csv(path, magic.startswith(b"\x1f\x8b"), encoding, delimiter)
    if check:
        try:
            feed.check()
        except BaseException:
            feed.close()
            raise
    return feed


def check_feed_file(path: Path) -> bytes:
    """``FeedReadError`` unless ``path`` is a file that can be read and is not empty.

    Cheap (its first bytes only): a command checks its feed with it before it starts
    anything else. Returns those first bytes.
    """
    if not path.exists():
        raise FeedReadError(f"{path}: file not found")
    if not path.is_file():
        raise FeedReadError(f"{path}: not a file")
    try:
        with path.open("rb") as raw:
            magic = raw.read(8)
    except OSError as exc:
        raise FeedReadError(f"{path}: cannot be opened: {exc.strerror or exc}") from exc
    if not magic:
        raise FeedReadError(f"{path}: the file is empty (0 bytes): no header row")
    return magic


# --- CSV ---------------------------------------------------------------------------------


def _open_csv(path: Path, is_gzip: bool, encoding: str | None, delimiter: str | None) -> Feed:
    if csv.field_size_limit() < MAX_CELL_CHARS:
        csv.field_size_limit(MAX_CELL_CHARS)
    given_delimiter = check_delimiter(delimiter)

    def open_raw() -> io.BufferedIOBase:
        return gzip.open(path, "rb") if is_gzip else path.open("rb")

    head = _read_head(path, open_raw, is_gzip)
    fmt_encoding, codec, bom = _choose_encoding(head, encoding)
    if not codec.startswith(("utf-16", "utf-32")):
        _check_text(path, head)
    _check_byte_order_mark(path, head, codec)

    def open_text() -> IO[str]:
        if is_gzip:
            return gzip.open(path, "rt", encoding=codec, newline="")
        return path.open(encoding=codec, newline="")

    sample = _read_sample(path, open_text, is_gzip)
    sniffed = _sniff_delimiter(sample, tab_first=_is_tsv(path))
    if given_delimiter is not None:
        if sniffed != given_delimiter and given_delimiter not in _first_line(sample):
            log.warning(
                "%s: the delimiter %r does not occur in the header row; it looks like %r",
                path,
                given_delimiter,
                sniffed,
            )
        delim = given_delimiter
    else:
        delim = sniffed
    fmt = FeedFormat(
        kind="csv",
        delimiter=delim,
        encoding=fmt_encoding,
        bom=bom,
        gzip=is_gzip,
        line_end=_line_end(sample),
    )

    def check(watch: Callable[[Row], None] | None) -> None:
        _validate_csv(path, open_raw, open_text, fmt, codec, watch)

    header = _csv_header(path, open_text, delim)
    if header is None:  # unreadable or blank: the validation pass says exactly why
        check(None)
        raise FeedReadError(f"{path}: no header row")  # unreachable unless the file changed
    streams: list[IO[str]] = []

    def rows() -> Iterator[Row]:
        try:
            text = open_text()
        except OSError as exc:
            raise FeedReadError(f"{path}: cannot be opened: {exc.strerror or exc}") from exc
        streams.append(text)
        reader = csv.reader(text, delimiter=delim)
        try:
            next(reader, None)  # the header
            yield from _csv_rows(path, reader)
        finally:
            text.close()

    def close() -> None:
        for stream in streams:
            stream.close()

    return Feed(path, fmt, header, rows, close, check)


def _csv_header(
    path: Path, open_text: Callable[[], IO[str]], delimiter: str
) -> tuple[str, ...] | None:
    """The first record, or None when it cannot be read or is blank."""
    try:
        with open_text() as text:
            header = next(csv.reader(text, delimiter=delimiter), None)
    except (UnicodeError, csv.Error, OSError, EOFError, zlib.error):
        return None
    if header is None or is_blank(header):
        return None
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    return tuple(header)


def _csv_rows(path: Path, reader: Iterator[list[str]]) -> Iterator[Row]:
    # The hot loop: one tuple and one Row per record, nothing per cell.
    number = 1
    try:
        for number, cells in enumerate(reader, 2):
            yield Row(number, tuple(cells))
    except csv.Error as exc:  # only if the file changed after the validation pass
        raise FeedReadError(f"{path}: row {number + 1}: not valid CSV: {exc}") from exc
    except (UnicodeDecodeError, OSError, EOFError, zlib.error) as exc:
        raise FeedReadError(f"{path}: row {number + 1}: read failed: {exc}") from exc


def check_delimiter(delimiter: str | None) -> str | None:
    """The delimiter character a ``--delimiter`` value names (``\\t``, ``tab``, ``;``...).

    Raises ``ConfigError`` unless it is one character other than a quote or a line break.
    """
    if delimiter is None:
        return None
    value = _DELIMITER_NAMES.get(delimiter, delimiter)
    if len(value) != 1 or value in '"\r\n':
        raise ConfigError(
            f"the delimiter must be one character such as , ; | or \\t (tab), got {delimiter!r}"
        )
    return value


def _choose_encoding(head: bytes, encoding: str | None) -> tuple[str, str, bool]:
    """(encoding to report, codec to read with, UTF-8 BOM present)."""
    has_bom = head.startswith(_UTF8_BOM)
    if encoding is None:
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16", "utf-16", False
        return "utf-8", "utf-8-sig", has_bom
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise ConfigError(
            f"unknown encoding {encoding!r}: use e.g. utf-8, cp1252, latin-1 or utf-16"
        ) from None
    # idna and punycode encode domain names, not files (and cannot write the feedback file)
    if not getattr(info, "_is_text_encoding", True) or info.name in {"idna", "punycode"}:
        raise ConfigError(f"{encoding!r} is not a text encoding: use e.g. utf-8, cp1252, latin-1")
    if info.name in {"utf-8", "utf-8-sig"}:
        return "utf-8", "utf-8-sig", has_bom
    return info.name, info.name, False


_BYTE_ORDER_MARKS = {
    "utf-16": (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE),
    "utf-32": (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE),
}


def _check_byte_order_mark(path: Path, head: bytes, codec: str) -> None:
    """``utf-16`` / ``utf-32`` without ``-le`` / ``-be`` read the byte order from a BOM."""
    marks = _BYTE_ORDER_MARKS.get(codec)
    if marks is None or head.startswith(marks):
        return
    windows = " (what Windows writes)" if codec == "utf-16" else ""
    raise FeedReadError(
        f"{path}: the file does not start with a {codec.upper()} byte order mark (BOM), so "
        f"--encoding {codec} cannot tell the byte order: pass --encoding {codec}-le{windows} "
        f"or {codec}-be, or the file's real encoding (is it UTF-8?)"
    )


def _read_head(path: Path, open_raw: Callable[[], io.BufferedIOBase], is_gzip: bool) -> bytes:
    try:
        with open_raw() as raw:
            head = raw.read(64 * 1024)
    except (OSError, EOFError, zlib.error) as exc:
        raise FeedReadError(_gzip_message(path, exc) if is_gzip else f"{path}: {exc}") from exc
    if not head:
        raise FeedReadError(
            f"{path}: the file is empty (no data after decompressing): no header row"
        )
    return head


def _gzip_message(path: Path, exc: BaseException) -> str:
    return (
        f"{path}: cannot be decompressed: it starts like a gzip file but is damaged or cut "
        f"short ({exc}); compress it again, or pass the plain CSV"
    )


def _check_text(path: Path, head: bytes) -> None:
    """Refuse files that are plainly not text: known binary formats and NUL bytes."""
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            raise FeedReadError(f"{path}: not a table: the file is {what}")
    nul = head.find(b"\x00")
    if nul >= 0:
        line = head.count(b"\n", 0, nul) + 1
        raise FeedReadError(
            f"{path}: not a text table: line {line} holds binary data "
            f"(a NUL byte at byte offset {nul}). Export the feed as CSV or XLSX; if it is "
            "UTF-16 text, pass --encoding utf-16"
        )
    if len(head) < 64 * 1024 and not head.strip():
        raise FeedReadError(f"{path}: the file holds only whitespace: no header row")


def _read_sample(path: Path, open_text: Callable[[], IO[str]], is_gzip: bool) -> str:
    """The start of the file, at least through its first line break (for sniffing)."""
    parts: list[str] = []
    size = 0
    try:
        with open_text() as text:
            while size < MAX_CELL_CHARS:
                chunk = text.read(64 * 1024)
                if not chunk:
                    break
                parts.append(chunk)
                size += len(chunk)
                if "\n" in chunk or "\r" in chunk:
                    break
    except UnicodeError:  # UnicodeDecodeError, or a codec's own complaint
        return "".join(parts)  # the validation pass reports it with its byte offset
    except (OSError, EOFError, zlib.error) as exc:
        raise FeedReadError(_gzip_message(path, exc) if is_gzip else f"{path}: {exc}") from exc
    return "".join(parts)


def _first_line(sample: str) -> str:
    return sample.splitlines()[0] if sample else ""


def _is_tsv(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".tsv", ".tsv.gz", ".tab", ".tab.gz"))


def _sniff_delimiter(sample: str, *, tab_first: bool = False) -> str:
    """The delimiter that splits the first record into the most cells (quotes respected).

    >>> _sniff_delimiter('sku;name;"price, EUR"\\n1;a;2\\n')
    ';'
    """
    order = ("\t", ",", ";", "|") if tab_first else DELIMITERS
    best, best_count = order[0], 1
    for candidate in order:
        first = next(csv.reader(io.StringIO(sample, newline=""), delimiter=candidate), [])
        if len(first) > best_count:
            best, best_count = candidate, len(first)
    return best


def _line_end(sample: str) -> str:
    lf = sample.find("\n")
    cr = sample.find("\r")
    if lf < 0 and cr < 0:
        return "\r\n"
    if cr >= 0 and (lf < 0 or cr < lf - 1):
        return "\r"
    if lf > 0 and sample[lf - 1] == "\r":
        return "\r\n"
    return "\n"


def _validate_csv(
    path: Path,
    open_raw: Callable[[], io.BufferedIOBase],
    open_text: Callable[[], IO[str]],
    fmt: FeedFormat,
    codec: str,
    watch: Callable[[Row], None] | None = None,
) -> None:
    """Decode and parse the whole file once, so it cannot fail after rows were sent.

    ``watch`` sees every data row as ``rows()`` will give it (the first record is the
    header; the sentinel record is never shown).
    """
    records = 0
    line_after = 1  # the line the next record starts on
    record_start = 1
    seen_content = False
    header_blank = False
    last: list[str] = []
    held: tuple[str, ...] = ()
    try:
        with _open_guarded(open_raw, open_text, codec) as text:
            # The sentinel line forms a record of its own unless a quote is still open at
            # the end of the file, in which case it lands inside that quoted cell.
            reader = csv.reader(itertools.chain(text, (_SENTINEL,)), delimiter=fmt.delimiter)
            for last in reader:
                records += 1
                if watch is not None and records > 2:
                    # the record before this one was a data row (the last one read is
                    # the sentinel, when the file is sound)
                    watch(Row(records - 1, held))
                held = tuple(last)
                if not seen_content:
                    if records == 1:
                        header_blank = is_blank(last)
                    seen_content = not is_blank(last) and last != [_SENTINEL]
                record_start = line_after
                line_after = reader.line_num + 1
    except UnicodeDecodeError as exc:
        raise FeedReadError(_decode_error_message(path, open_raw, fmt, codec)) from exc
    except UnicodeError as exc:  # not a decode error with a position: say what the codec said
        raise FeedReadError(
            f"{path}: cannot be read as {fmt.encoding}: {exc}. Pass the file's encoding with "
            "--encoding (e.g. utf-8, cp1252, latin-1)"
        ) from exc
    except _NulByte as exc:
        raise FeedReadError(_nul_message(path, open_raw, fmt, codec, exc.offset)) from None
    except csv.Error as exc:
        row = records + 1
        hint = (
            f"a cell is larger than {MAX_CELL_CHARS // (1024 * 1024)} MB (is a quote left open?)"
            if "field larger" in str(exc)
            else str(exc)
        )
        raise FeedReadError(
            f"{path}: row {row} (line {line_after}): not valid CSV: {hint}"
        ) from exc
    except (OSError, EOFError, zlib.error) as exc:
        raise FeedReadError(_gzip_message(path, exc) if fmt.gzip else f"{path}: {exc}") from exc
    if last != [_SENTINEL]:
        raise FeedReadError(
            f"{path}: row {records} (line {record_start}): a quoted cell "
            "is never closed, so the rest of the file would be read as one cell. Close the "
            'quote, or double each quote inside a quoted cell ("")'
        )
    if not seen_content:
        raise FeedReadError(f"{path}: the file holds only empty rows: no header row")
    if header_blank:
        raise FeedReadError(
            f"{path}: row 1 is empty: the header must be the first row (remove the empty rows "
            "above the header)"
        )


class _NulByte(Exception):
    """A NUL byte in a text feed, at ``offset`` bytes (of the uncompressed data)."""

    def __init__(self, offset: int) -> None:
        super().__init__(f"NUL byte at byte offset {offset}")
        self.offset = offset


class _NulGuard(io.RawIOBase):
    """The feed's bytes, refusing the first NUL byte.

    ``_check_text`` only looks at the first 64 KiB; without this guard a NUL further down
    would be read (Python 3.11's ``csv`` accepts it) and sent, so the same bytes would be
    refused or sent depending on where they sit. One ``find`` per 64 KiB: no cost per row.
    """

    def __init__(self, raw: io.BufferedIOBase) -> None:
        super().__init__()
        self._raw = raw
        self._offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        at = data.find(b"\x00")
        if at >= 0:
            raise _NulByte(self._offset + at)
        size = len(data)
        buffer[:size] = data
        self._offset += size
        return size

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


def _open_guarded(
    open_raw: Callable[[], io.BufferedIOBase], open_text: Callable[[], IO[str]], codec: str
) -> IO[str]:
    """The feed as text for the validation pass; NUL bytes raise ``_NulByte``.

    In UTF-16 and UTF-32 a NUL byte is part of ordinary characters, so no guard there.
    """
    if codec.startswith(("utf-16", "utf-32")):
        return open_text()
    raw = open_raw()
    try:
        buffered = io.BufferedReader(_NulGuard(raw), _GUARD_CHUNK)
    except BaseException:
        raw.close()
        raise
    return io.TextIOWrapper(buffered, encoding=codec, newline="")


def _nul_message(
    path: Path, open_raw: Callable[[], io.BufferedIOBase], fmt: FeedFormat, codec: str, offset: int
) -> str:
    """Say on which line the NUL byte at ``offset`` sits, and what is around it."""
    lines = 1
    consumed = 0
    near = b""
    with open_raw() as raw:
        while consumed <= offset:
            chunk = raw.read(_CHUNK)
            if not chunk:
                break
            local = offset - consumed
            if local < len(chunk):
                lines += chunk.count(b"\n", 0, local)
                start = chunk.rfind(b"\n", 0, local) + 1
                near = chunk[max(start, local - 40) : local + 40].split(b"\n")[0]
                break
            lines += chunk.count(b"\n")
            consumed += len(chunk)
    shown = near.decode(codec, errors="replace")
    where = " of the uncompressed data" if fmt.gzip else ""
    return (
        f"{path}: not a text table: line {lines} holds binary data (a NUL byte at byte offset "
        f"{offset}{where}, near {shown!r}). A NUL byte is never part of a product's text: "
        "remove it, or export the feed again as CSV or XLSX"
    )


def _decode_error_message(
    path: Path, open_raw: Callable[[], io.BufferedIOBase], fmt: FeedFormat, codec: str
) -> str:
    """Find the first undecodable byte with a streaming pass and describe it."""
    decoder = codecs.getincrementaldecoder(codec)()
    consumed = 0
    lines = 1
    found: tuple[int, int, bytes, bytes, int] | None = None
    with open_raw() as raw:
        while found is None:
            chunk = raw.read(_CHUNK)
            pending = decoder.getstate()[0]
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                data = pending + chunk
                offset = consumed - len(pending) + exc.start
                local = max(exc.start - len(pending), 0)
                line = lines + chunk[:local].count(b"\n")
                found = (offset, line, data[exc.start : exc.end], data, exc.start)
                break
            if not chunk:
                break
            consumed += len(chunk)
            lines += chunk.count(b"\n")
    name = fmt.encoding.upper() if fmt.encoding.startswith("utf") else fmt.encoding
    if found is None:
        return f"{path}: cannot be decoded as {name}"
    offset, line, bad, data, context_at = found
    line_start = data.rfind(b"\n", 0, context_at) + 1
    line_end = data.find(b"\n", context_at)
    snippet = data[max(line_start, context_at - 40) : line_end if line_end >= 0 else None]
    near = snippet[:80].decode(codec, errors="replace").strip()
    where = " of the uncompressed data" if fmt.gzip else ""
    suggestions = [e for e in ("cp1252", "latin-1", "utf-8") if e != fmt.encoding][:2]
    advice = " or ".join(f"--encoding {e}" for e in suggestions)
    return (
        f"{path}: line {line} is not valid {name}: byte(s) {bad.hex(' ')} at byte offset "
        f"{offset}{where}, near {near!r}. The file is in another encoding: try {advice} "
        "(cp1252 is what Excel on Windows writes)"
    )


# --- XLSX --------------------------------------------------------------------------------


def _check_workbook_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise FeedReadError(
            f"{path}: a damaged zip archive, not a readable workbook: {exc}"
        ) from exc
    if "xl/workbook.xml" in names:
        return
    if "xl/workbook.bin" in names:
        raise FeedReadError(f"{path}: an Excel binary workbook (.xlsb): save it as .xlsx or CSV")
    if "mimetype" in names and "content.xml" in names:
        raise FeedReadError(f"{path}: an OpenDocument spreadsheet: save it as .xlsx or CSV")
    raise FeedReadError(
        f"{path}: a zip archive, not an XLSX workbook: extract the feed from it first"
    )


def _open_xlsx(path: Path, sheet: str | None) -> Feed:
    try:
        book = CalamineWorkbook.from_path(str(path))
    except PasswordError as exc:
        raise FeedReadError(
            f"{path}: the workbook is password-protected: save an unprotected copy"
        ) from exc
    except (CalamineError, OSError, ValueError) as exc:
        raise FeedReadError(f"{path}: cannot be read as an XLSX workbook: {exc}") from exc
    try:
        name = _pick_sheet(path, book, sheet)
        try:
            data = book.get_sheet_by_name(name)
        except (CalamineError, ValueError) as exc:
            raise FeedReadError(f"{path}: sheet {name!r} cannot be read: {exc}") from exc
        # calamine drops empty columns left of the data; put them back so columns line up
        offset = data.start[1] if data.start else 0
        first = next(iter(data.iter_rows()), None)
        if first is None:
            raise FeedReadError(f"{path}: sheet {name!r} is empty: no header row")
        header = _xlsx_cells(first, offset)
        if is_blank(header):
            raise FeedReadError(
                f"{path}: sheet {name!r}: row 1 is empty: the header must be the first row "
                "(remove the empty rows above the header)"
            )
    except BaseException:
        book.close()
        raise
    fmt = FeedFormat(kind="xlsx", sheet=name)

    def rows() -> Iterator[Row]:
        # the sheet is in memory (calamine read it whole): each pass walks it again
        source = iter(data.iter_rows())
        next(source, None)  # the header
        return _xlsx_rows(source, offset, len(header))

    def check(watch: Callable[[Row], None] | None) -> None:
        # reading the sheet was the validation; a watcher gets a pass of its own
        if watch is not None:
            for row in rows():
                watch(row)

    return Feed(path, fmt, header, rows, book.close, check)


def _pick_sheet(path: Path, book: CalamineWorkbook, sheet: str | None) -> str:
    names: list[str] = list(book.sheet_names)
    if not names:
        raise FeedReadError(f"{path}: the workbook has no sheets")
    if sheet is None:
        for meta in book.sheets_metadata:
            if meta.typ == SheetTypeEnum.WorkSheet and meta.visible == SheetVisibleEnum.Visible:
                return meta.name
        return names[0]
    if sheet in names:
        return sheet
    folded = [n for n in names if n.casefold() == sheet.casefold()]
    if folded:
        return folded[0]
    listed = ", ".join(repr(n) for n in names)
    raise FeedReadError(f"{path}: no sheet named {sheet!r}; the workbook has: {listed}")


def _xlsx_rows(source: Iterator[Sequence[object]], offset: int, width: int) -> Iterator[Row]:
    for number, values in enumerate(source, 2):
        cells = _xlsx_cells(values, offset)
        if len(cells) > width and not any(cells[width:]):
            cells = cells[:width]
        yield Row(number, cells)


def _xlsx_cells(values: Iterable[object], offset: int) -> tuple[str, ...]:
    cells = [cell_text(v) for v in values]
    if offset:
        cells[:0] = [""] * offset
    return tuple(cells)


def cell_text(value: object) -> str:
    """A typed spreadsheet value as the text a person reads in the cell.

    >>> [cell_text(v) for v in (12.0, 12.5, 0.1 + 0.2, True, dt.date(2024, 5, 1), None)]
    ['12', '12.5', '0.3', 'true', '2024-05-01', '']
    """
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")
    if isinstance(value, dt.timedelta):
        seconds = round(value.total_seconds())
        sign = "-" if seconds < 0 else ""
        hours, rest = divmod(abs(seconds), 3600)
        return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"
    return str(value)


def number_text(value: float) -> str:
    """A float as Excel shows it: 15 significant digits, no exponent for ordinary sizes.

    >>> [number_text(v) for v in (12.0, -0.0, 1e20, 1e-7, 2.5e-9, 123456789.125)]
    ['12', '0', '100000000000000000000', '0.0000001', '2.5e-09', '123456789.125']
    """
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = format(value, ".15g")
    if "e" in text and 1e-7 <= abs(value) < 1e21:
        text = format(Decimal(text), "f")
    return text
