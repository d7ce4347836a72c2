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
- XLSX (``feed.xlsx``): the first visible worksheet unless ``sheet`` names one; cells as
  text the way a person reads them; error cells and formulas with no saved value flagged
  on their row (``Row.flaws``), never read as empty.
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
import gzip
import io
import itertools
import logging
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from feed_export.errors import ConfigError, FeedReadError
from feed_export.feed.table import Feed as Feed
from feed_export.feed.table import FeedFormat as FeedFormat
from feed_export.feed.table import ReadLimits as ReadLimits
from feed_export.feed.table import Row as Row
from feed_export.feed.table import check_header_size, too_many_columns
from feed_export.feed.table import is_blank as is_blank
from feed_export.feed.xlsx import cell_text as cell_text
from feed_export.feed.xlsx import check_workbook_zip, open_xlsx
from feed_export.feed.xlsx import number_text as number_text

log = logging.getLogger(__name__)

#: largest cell the CSV reader accepts (the csv module's default is 128 KiB)
MAX_CELL_CHARS = 50 * 1024 * 1024
#: delimiters tried when none is given, in order of preference on a tie
DELIMITERS = (",", ";", "\t", "|")

_CHUNK = 1 << 20
_READ_LIMITS = ReadLimits()
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


def open_feed(
    path: Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    check: bool = True,
    limits: ReadLimits = _READ_LIMITS,
) -> Feed:
    """Open a CSV/TSV (optionally gzip) or XLSX feed and read its header row.

    ``limits``: how large the feed may be (inflated size, sheet cells, header columns);
    a feed beyond them is refused with ``FeedReadError`` before it is loaded.

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
        check_workbook_zip(path, limits)
        if encoding is not None or delimiter is not None:
            log.warning("%s: an XLSX workbook: --encoding and --delimiter are ignored", path)
        feed = open_xlsx(path, sheet, limits)
    elif path.suffix.lower() in {".xlsx", ".xlsm"}:
        raise FeedReadError(
            f"{path}: named {path.suffix} but not an XLSX workbook (it is not a zip archive); "
            "if it is a CSV file, rename it to .csv"
        )
    else:
        if sheet is not None:
            log.warning("%s: not a workbook: the sheet option %r is ignored", path, sheet)
        feed = _open_csv(path, magic.startswith(b"\x1f\x8b"), encoding, delimiter, limits)
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


def _open_csv(
    path: Path, is_gzip: bool, encoding: str | None, delimiter: str | None, limits: ReadLimits
) -> Feed:
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
    # every pass reads through a guard: a line, and a gzip feed's inflated size, bounded
    guard = _Limits(limits.max_line_chars, limits.max_bytes if is_gzip else None)

    def open_text() -> IO[str]:
        return _open_guarded(open_raw, codec, guard, nul=False)

    sample = _read_sample(path, open_text, is_gzip, limits)
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
        _validate_csv(path, open_raw, open_text, fmt, codec, guard, watch)

    _check_header_line(path, _first_line(sample), delim, limits)
    header = _csv_header(path, open_text, delim, fmt)
    if header is None:  # unreadable or blank: the validation pass says exactly why
        check(None)
        raise FeedReadError(f"{path}: no header row")  # unreachable unless the file changed
    check_header_size(path, header, limits)
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
        except _Refused as exc:  # only if the file changed after the validation pass
            raise FeedReadError(exc.message(path, fmt)) from None
        finally:
            text.close()

    def close() -> None:
        for stream in streams:
            stream.close()

    return Feed(path, fmt, header, rows, close, check)


def _csv_header(
    path: Path, open_text: Callable[[], IO[str]], delimiter: str, fmt: FeedFormat
) -> tuple[str, ...] | None:
    """The first record, or None when it cannot be read or is blank."""
    try:
        with open_text() as text:
            header = next(csv.reader(text, delimiter=delimiter), None)
    except _Refused as exc:
        raise FeedReadError(exc.message(path, fmt)) from None
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


def _check_header_line(path: Path, line: str, delimiter: str, limits: ReadLimits) -> None:
    """Refuse a header of far too many columns before the ``csv`` module splits it."""
    if line.count(delimiter) + 1 > limits.max_columns:
        if '"' not in line:  # no quote: the count is exact, and splitting would cost
            raise too_many_columns(path, line.count(delimiter) + 1, limits)
        # a quoted cell may hold delimiters: only refuse what parsing refuses
        header = next(csv.reader(io.StringIO(line), delimiter=delimiter), [])
        check_header_size(path, tuple(header), limits)


def _read_sample(
    path: Path, open_text: Callable[[], IO[str]], is_gzip: bool, limits: ReadLimits
) -> str:
    """The start of the file, at least through its first line break (for sniffing)."""
    parts: list[str] = []
    size = 0
    # the longest header line there can be: more is refused when the header is read
    most = min(MAX_CELL_CHARS, limits.max_columns * (limits.max_header_chars + 3))
    try:
        with open_text() as text:
            while size < most:
                chunk = text.read(64 * 1024)
                if not chunk:
                    break
                parts.append(chunk)
                size += len(chunk)
                if "\n" in chunk or "\r" in chunk:
                    break
    except UnicodeError:  # UnicodeDecodeError, or a codec's own complaint
        return "".join(parts)  # the validation pass reports it with its byte offset
    except _Refused as exc:
        raise FeedReadError(exc.message(path, None)) from None
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
    guard: _Limits,
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
        with _open_guarded(open_raw, codec, guard, nul=True) as text:
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
    except _Refused as exc:
        raise FeedReadError(exc.message(path, fmt)) from None
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


@dataclass(frozen=True, slots=True)
class _Limits:
    """What the guard enforces: the longest line, the most bytes (None: any)."""

    max_line: int
    max_bytes: int | None


class _Refused(Exception):
    """The feed broke a ``ReadLimits`` bound while being read."""

    def __init__(self, what: str, line: int, limit: int) -> None:
        super().__init__(what)
        self.what = what
        self.line = line
        self.limit = limit

    def message(self, path: Path, fmt: FeedFormat | None) -> str:
        size = _mb(self.limit)
        if self.what == "line":
            return (
                f"{path}: line {self.line:,} is longer than {size} without a line break: "
                "not a table (binary data, or one endless line); the feed is not read"
            )
        return (
            f"{path}: inflates to more than {size} (a damaged or hostile file?); the feed is "
            f"not read. If it really is that large, pass --max-feed-size "
            f"{self.limit // (1024 * 1024) * 4}"
        )


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):,.0f} MB"


class _Guard(io.RawIOBase):
    """The feed's bytes, within its bounds: each line (bytes between two ``\\n``) and the
    whole; with ``nul``, refusing the first NUL byte too.

    ``_check_text`` only looks at the first 64 KiB; without this guard a NUL further down
    would be read (Python 3.11's ``csv`` accepts it) and sent, so the same bytes would be
    refused or sent depending on where they sit. A line without end would be read whole
    by the text layer before ``csv`` sees it (a 3 GB line: MemoryError). A few ``find``
    per 64 KiB: no cost per row. In UTF-16/32 a byte ``\\n`` may sit inside another
    character: lines then only look shorter, never longer.
    """

    def __init__(self, raw: io.BufferedIOBase, limits: _Limits, nul: bool) -> None:
        super().__init__()
        self._raw = raw
        self._limits = limits
        self._nul = nul
        self._offset = 0
        self._line_start = 0  # offset where the current line began
        self._lines = 1

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        if self._nul:
            at = data.find(b"\x00")
            if at >= 0:
                raise _NulByte(self._offset + at)
        size = len(data)
        last = data.rfind(b"\n")
        if last >= 0:
            first = data.find(b"\n")
            if self._offset + first - self._line_start > self._limits.max_line:
                raise _Refused("line", self._lines, self._limits.max_line)
            self._lines += data.count(b"\n")
            self._line_start = self._offset + last + 1
            # a long line between two breaks of this chunk: a chunk is far shorter than
            # any line limit, so only the run from the last break on needs watching
        end = self._offset + size
        if end - self._line_start > self._limits.max_line:
            raise _Refused("line", self._lines, self._limits.max_line)
        if self._limits.max_bytes is not None and end > self._limits.max_bytes:
            raise _Refused("size", self._lines, self._limits.max_bytes)
        buffer[:size] = data
        self._offset = end
        return size

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


def _open_guarded(
    open_raw: Callable[[], io.BufferedIOBase], codec: str, limits: _Limits, *, nul: bool
) -> IO[str]:
    """The feed as text, read through a ``_Guard``.

    ``nul`` (the validation pass): NUL bytes raise ``_NulByte``; never in UTF-16 and
    UTF-32, where a NUL byte is part of ordinary characters.
    """
    nul = nul and not codec.startswith(("utf-16", "utf-32"))
    raw = open_raw()
    try:
        buffered = io.BufferedReader(_Guard(raw, limits, nul), _GUARD_CHUNK)
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
