"""Windows event text, as admins paste it.

- Event Viewer's "Copy details as text": ``Log Name:``, ``Source:``, ``Date:``, ``Event ID:``, ``Task Category:``,
  ``Level:``, ``Keywords:``, ``User:``, ``Computer:``, ``Description:`` and the description's lines, then often
  ``Event Xml:`` and the event's XML (its ``SystemTime`` is UTC: the time is read from there when it is given).
  Several events in one file, with or without blank lines between them; labels in English, German, French,
  Spanish, Russian, Chinese or Japanese (``LABELS``).
- The same flattened onto one line (a forum paste that lost its line breaks): split at the labels.
- ``Get-WinEvent | Format-List`` (``TimeCreated``, ``ProviderName``, ``Id``, ``Message``...) and ``Get-EventLog |
  Format-List`` (``TimeGenerated``, ``Source``, ``EventID``/``InstanceId``, ``EntryType``...): the message's
  continuation lines are indented, and may be separated by blank lines.
- ``wevtutil qe ... /f:text``: ``Event[0]:`` and the copy's labels, indented.
- A description pasted alone: a paragraph in the wording of a known Exchange event (``WORDINGS``).
- Event Viewer's "Save All Events As..." CSV or tab-delimited text: ``EventViewerSavedReader``, placed before the
  CSV reader (its header has five columns and its rows six).

Exported objects (``Get-WinEvent | ConvertTo-Json``, ``Export-Csv``) are record kinds (``kinds.events``).

Whatever else the file holds is read as the console reader reads it (a Get-ExchangeCertificate listing in the same
paste still counts), and the lines that are neither are named in a notice.
"""

from __future__ import annotations

import csv
import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone

from hybridtls.errors import EvidenceError
from hybridtls.evidence.console import command_server, iter_console_text
from hybridtls.evidence.dates import parse_datetime
from hybridtls.evidence.interface import EvidenceFile, EvidenceReader, Record, pieces
from hybridtls.model import EventLayout, EventLevel, Notice, Source, WindowsEvent

# The labels of Event Viewer's "Copy details as text", by language, as field -> labels. Written from the localised
# Event Viewer; alternatives cover spellings that differ between Windows versions.
LABELS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {"log": ("Log Name",), "source": ("Source",), "date": ("Date",), "id": ("Event ID",),
           "task": ("Task Category", "Task"), "level": ("Level",), "keywords": ("Keywords", "Keyword"),
           "user": ("User", "User Name"), "computer": ("Computer",), "opcode": ("OpCode",),
           "description": ("Description",), "xml": ("Event Xml",)},  # Task, Keyword, User Name: wevtutil /f:text
    "de": {"log": ("Protokollname",), "source": ("Quelle",), "date": ("Datum",), "id": ("Ereignis-ID",),
           "task": ("Aufgabenkategorie",), "level": ("Ebene",), "keywords": ("Schlüsselwörter",),
           "user": ("Benutzer",), "computer": ("Computer",), "opcode": ("Vorgangscode",),
           "description": ("Beschreibung",), "xml": ("Ereignis-XML",)},
    "fr": {"log": ("Nom du journal",), "source": ("Source",), "date": ("Date",),
           "id": ("ID de l’événement", "ID de l'événement", "ID de l’évènement", "ID de l'évènement"),
           "task": ("Catégorie de la tâche", "Catégorie de tâche"), "level": ("Niveau",),
           "keywords": ("Mots clés", "Mots-clés"), "user": ("Utilisateur",), "computer": ("Ordinateur",),
           "opcode": ("Opcode",), "description": ("Description",),
           "xml": ("Xml de l’événement", "Xml de l'événement", "XML de l’événement", "XML de l'événement")},
    "es": {"log": ("Nombre de registro",), "source": ("Origen",), "date": ("Fecha",),
           "id": ("Id. del evento", "Identificador del evento", "Id. de evento"),
           "task": ("Categoría de la tarea", "Categoría de tarea"), "level": ("Nivel",),
           "keywords": ("Palabras clave",), "user": ("Usuario",), "computer": ("Equipo",),
           "opcode": ("Código de operación",), "description": ("Descripción",),
           "xml": ("XML de evento", "Xml del evento", "XML del evento")},
    "ru": {"log": ("Имя журнала",), "source": ("Источник",), "date": ("Дата",), "id": ("Код события",),
           "task": ("Категория задачи",), "level": ("Уровень",), "keywords": ("Ключевые слова",),
           "user": ("Пользователь",), "computer": ("Компьютер",), "opcode": ("Код операции",),
           "description": ("Описание",), "xml": ("Xml события", "XML события")},
    "zh": {"log": ("日志名称",), "source": ("来源",), "date": ("日期",), "id": ("事件 ID", "事件ID"),
           "task": ("任务类别",), "level": ("级别",), "keywords": ("关键字",), "user": ("用户",),
           "computer": ("计算机",), "opcode": ("操作代码",), "description": ("描述",), "xml": ("事件 Xml", "事件 XML")},
    "ja": {"log": ("ログの名前",), "source": ("ソース",), "date": ("日付",), "id": ("イベント ID", "イベントID"),
           "task": ("タスクのカテゴリ",), "level": ("レベル",), "keywords": ("キーワード",),
           "user": ("ユーザー", "ユーザ"), "computer": ("コンピューター", "コンピュータ"), "opcode": ("オペコード",),
           "description": ("説明",), "xml": ("イベント XML", "イベント Xml")},
}

# Levels as each language shows them (and as Get-EventLog's EntryType and the XML's numbers give them).
_LEVEL_WORDS: dict[EventLevel, tuple[str, ...]] = {
    EventLevel.CRITICAL: ("Critical", "Kritisch", "Critique", "Crítico", "Критический", "关键", "重大", "1"),
    EventLevel.ERROR: ("Error", "Fehler", "Erreur", "Ошибка", "错误", "エラー", "2"),
    EventLevel.WARNING: ("Warning", "Warnung", "Avertissement", "Advertencia", "Предупреждение", "警告", "3"),
    EventLevel.INFORMATION: ("Information", "Informationen", "Información", "Сведения", "信息", "情報", "4", "0"),
    EventLevel.VERBOSE: ("Verbose", "Ausführlich", "Commentaires", "Detallado", "Подробности", "详细", "詳細", "5"),
    EventLevel.AUDIT_SUCCESS: ("Audit Success", "SuccessAudit"),
    EventLevel.AUDIT_FAILURE: ("Audit Failure", "FailureAudit"),
}
_LEVELS = {word.casefold(): level for level, words in _LEVEL_WORDS.items() for word in words}
_COPIES = (EventLayout.EVENT_VIEWER, EventLayout.FLATTENED, EventLayout.WEVTUTIL)
_HEADER = ("log", "source", "date", "id", "task", "level", "keywords", "user", "computer", "opcode")

# The label of each copy-layout line, whatever its language: "Label:" (French puts a space before the colon;
# Chinese and Japanese copies may use a full-width colon).
_LABEL_FIELD = {label.casefold(): (name, language) for language, table in LABELS.items()
                for name, labels in table.items() for label in labels}
_LONGEST_LABEL = 8 + max(map(len, _LABEL_FIELD))  # a label's colon is no further into its line than this
_COLON = re.compile("[:：]")
_WORD_START = re.compile(r"(?:^|(?<=\s))\S")

# Format-List of the event objects of Get-WinEvent (EventLogRecord) and Get-EventLog (EventLogEntry).
_FL_LINE = re.compile(r"^(?P<indent>[ \t]*)(?P<label>[A-Za-z][A-Za-z]{1,30})[ \t]*: ?(?P<value>.*)$")
_FL_FIELDS = {
    "timecreated": "date", "timegenerated": "date", "providername": "source", "source": "source", "id": "id",
    "eventid": "id", "instanceid": "instanceid", "leveldisplayname": "level", "entrytype": "level",
    "level": "levelnumber", "machinename": "computer", "logname": "log", "taskdisplayname": "task",
    "category": "task", "message": "description",
}
_FL_OTHER = frozenset({"index", "categorynumber", "replacementstrings", "timewritten", "username", "data", "site",
                       "container", "version", "qualifiers", "task", "opcode", "keywords", "recordid", "providerid",
                       "processid", "threadid", "userid", "activityid", "relatedactivityid", "containerlog",
                       "matchedqueryids", "bookmark", "opcodedisplayname", "keywordsdisplaynames", "properties"})
_FL_KEYS = _FL_OTHER | frozenset(_FL_FIELDS)

# A description alone is recognised by the wording of the Exchange events hybridtls knows (English only: a
# translated description is recognised by its labels, not its words). The id it stands for is recorded.
WORDINGS: tuple[tuple[int, re.Pattern[str]], ...] = tuple((event_id, re.compile(pattern, re.I)) for event_id, pattern in (
    (12014, r"could not find a certificate that contains the domain name .{1,600}? in the personal store on the "
            r"local computer\. Therefore, it is unable to support the STARTTLS SMTP verb"),
    (12013, r"could not load the certificate with thumbprint of \w+ from the personal store"),
    (12012, r"internal transport certificate .{0,80}could not be read from Active Directory"),
    (12016, r"There is no valid SMTP Transport Layer Security \(TLS\) certificate for the FQDN of"),
    (12017, r"An internal transport certificate will expire soon"),
    (12018, r"The STARTTLS certificate will expire soon"),
    (12019, r"The remote internal transport certificate expired"),
    (1035, r"Inbound authentication failed with error \w+ for Receive connector"),
    (2004, r"Unable to find the certificate with thumbprint \w+ in the current computer or the certificate is missing "
           r"private key"),  # MSExchange OAuth: the Auth certificate that signs tokens
))

_SYSTEM_TIME = re.compile(r"<TimeCreated\s+SystemTime=['\"](?P<time>[0-9T:.\-]+)Z?['\"]")
_XML_END = "</Event>"
_DATA = re.compile(r"<Data(?:\s+Name=['\"][^'\"<>]{0,100}['\"])?\s*>(?P<value>[^<]{1,4000})</Data>")
_INCLUDED = "the following information was included with the event"  # Event Viewer without the message file
_MAX_STRINGS = 64
_EVENT_INDEX = re.compile(r"^Event\[\d+\]:\s*$")
_PROMPT = re.compile(r"^\s*(?:\[PS\]\s*(?:[A-Za-z]:\\[^>]*)?>|PS\s*(?:[A-Za-z]:\\[^>]*)?>|[A-Za-z]:\\[^>]*>)")
_MAX_DESCRIPTION = 64 * 1024  # characters kept of one description (a runaway paste is cut, and said)


@dataclass
class _Event:
    """An event being read."""

    layout: EventLayout
    line: int
    language: str | None = None
    values: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    description: list[str] = field(default_factory=list)
    system_time: str | None = None
    strings: list[str] = field(default_factory=list)  # the Event Xml's <Data> values
    last: int = 0  # the last line it took

    def put(self, name: str, value: str, line: int) -> None:
        if name not in self.values:
            self.values[name], self.lines[name] = value.strip(), line
        self.last = max(self.last, line)


@dataclass
class _Found:
    events: list[_Event] = field(default_factory=list)
    taken: list[tuple[int, int]] = field(default_factory=list)  # line ranges read as events


def _copy_label(line: str) -> tuple[str, str | None, str] | None:
    """(field, language, value) of a copy-layout line."""
    colon = line.find(":", 0, _LONGEST_LABEL)
    wide = line.find("：", 0, colon if colon >= 0 else _LONGEST_LABEL)
    if wide >= 0:
        colon = wide
    if colon < 0:
        return None
    found = _LABEL_FIELD.get(line[:colon].strip(" \t").casefold())
    return None if found is None else (found[0], found[1], line[colon + 1:].strip(" \t"))


def _inline_labels(line: str) -> list[tuple[int, str]]:
    """(start, field) of each label inside a line: the longest run of whole words before a colon that is a label."""
    found = []
    for colon in _COLON.finditer(line):
        end = colon.start()
        window = max(0, end - _LONGEST_LABEL)
        stem = line[window:end].rstrip(" \t")
        starts = [m.start() for m in _WORD_START.finditer(stem) if m.start() or window == 0 or line[window - 1].isspace()]
        for start in starts:  # the longest first
            label = _LABEL_FIELD.get(stem[start:].casefold())
            if label is not None:
                found.append((window + start, label[0]))
                break
    return found


def _flattened(line: str) -> list[str] | None:
    """A flattened copy split back into its lines: at each header label, in order, then at the description's
    label; inside a description only a new event's first label or the XML's label splits it."""
    if line.count(":") + line.count("：") < 3:
        return None
    marks = _inline_labels(line)
    names = [name for _, name in marks]
    if len(marks) < 3 or "log" not in names or "id" not in names:
        return None
    cuts: list[int] = []
    in_description = False
    for start, name in marks:
        if name == "log" or name == "xml" or (not in_description and name in (*_HEADER, "description")):
            cuts.append(start)
            in_description = name == "description"
            if name == "xml":
                in_description = True  # nothing splits the XML but a new event
    if not cuts or cuts[0] != 0 and line[:cuts[0]].strip():
        cuts.insert(0, 0)
    return [line[start:end].strip() for start, end in zip(cuts, [*cuts[1:], len(line)], strict=True)]


class _Scanner:
    """One pass over the lines, finding events; everything else is left for the console reader."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.found = _Found()
        self._open: _Event | None = None
        self._mode = ""  # "header", "description", "xml", "fl", "fl-message"
        self._fl_indent = 0
        self._blank_run = 0
        self._held_blank: list[int] = []  # blank lines inside an open Format-List message, kept if it goes on
        self._paragraph: list[tuple[int, str]] = []
        self._command_server: str | None = None  # -ComputerName on the last prompt line
        self._indexed = False  # "Event[n]:" lines seen: wevtutil's text

    # --- events opening and closing

    def _close(self) -> None:
        event, self._open = self._open, None
        self._mode = ""
        self._held_blank = []
        if event is None:
            return
        if event.layout in (EventLayout.GET_WINEVENT, EventLayout.GET_EVENTLOG) and not _fl_is_event(event):
            return  # a Format-List record of something else: the console reader has it
        self.found.events.append(event)
        self.found.taken.append((event.line, event.last))

    def _start(self, layout: EventLayout, line: int, language: str | None = None) -> _Event:
        self._close()
        self._flush_paragraph()
        self._open = _Event(layout=layout, line=line, language=language, last=line)
        if layout is EventLayout.GET_WINEVENT and self._command_server:
            self._open.values["commandcomputer"] = self._command_server
        return self._open

    def _flush_paragraph(self) -> None:
        paragraph, self._paragraph = self._paragraph, []
        if not paragraph:
            return
        text = " ".join(" ".join(text.split()) for _, text in paragraph)
        for event_id, wording in WORDINGS:
            if wording.search(text):
                event = _Event(layout=EventLayout.DESCRIPTION, line=paragraph[0][0], last=paragraph[-1][0])
                event.values["id"], event.lines["id"] = str(event_id), paragraph[0][0]
                event.description = [text]
                event.lines["description"] = paragraph[0][0]
                self.found.events.append(event)
                self.found.taken.append((event.line, event.last))
                return

    # --- lines

    def feed(self, number: int, line: str) -> None:
        if not line.strip():
            self._blank(number)
            return
        blanks, self._blank_run = self._blank_run, 0
        if self._mode in ("fl", "fl-message") and self._fl_line(number, line, blanks):
            return
        if line.startswith("Event[") and _EVENT_INDEX.match(line):  # wevtutil qe /f:text: "Event[0]:" before each
            self._close()
            self._flush_paragraph()
            self.found.taken.append((number, number))
            self._indexed = True
            return
        flat = _flattened(line) if len(line) > 40 and self._mode != "xml" else None
        if flat is not None:
            for part in flat:
                self._copy_line(number, part, flattened=True)
            return
        if self._copy_line(number, line, flattened=False):
            return
        prompt = _PROMPT.match(line) is not None
        if self._mode == "xml" and not prompt:
            self._xml_line(number, line)
            return
        if self._mode == "description" and not prompt:
            self._describe(number, line)
            return
        if prompt:
            self._close()
            self._flush_paragraph()
            self._command_server = command_server(line)
            return
        match = _FL_LINE.match(line)
        if match and not match["indent"] and match["label"].casefold() in _FL_KEYS:
            event = self._start(EventLayout.GET_WINEVENT, number)
            self._fl_field(event, match, number)
            return
        if self._mode == "header" and 0 < line.find(":", 0, _LONGEST_LABEL) and self._open is not None:
            self._open.last = number  # a header line whose label is not in the tables (a language not listed)
            return
        self._close()  # prose (after a header, or on its own)
        self._paragraph.append((number, line))

    def _blank(self, number: int) -> None:
        self._blank_run += 1
        if self._mode == "fl-message":
            self._held_blank.append(number)
        elif self._mode == "fl":
            self._close()
        elif self._mode in ("description", "xml") and self._blank_run >= 2:
            self._close()  # two blank lines end a description: what follows is the paste's prose
        elif self._mode == "description" and self._open is not None:
            self._open.description.append("")  # paragraphs (the parameters' list ends at one)
        elif self._open is None:
            self._flush_paragraph()

    def _copy_line(self, number: int, line: str, *, flattened: bool) -> bool:
        found = _copy_label(line)
        if found is None:
            if self._mode == "xml" and flattened:
                self._xml_line(number, line)
            elif self._mode == "description" and flattened:
                self._describe(number, line)
            return flattened
        name, language, value = found
        event = self._open
        if name == "log" and (event is None or event.layout not in _COPIES or "log" in event.values or self._mode != "header"):
            layout = EventLayout.FLATTENED if flattened else EventLayout.EVENT_VIEWER
            event = self._start(EventLayout.WEVTUTIL if self._indexed and not flattened else layout, number, language)
            self._mode = "header"
        elif event is None or event.layout not in _COPIES:
            return False
        if self._mode == "description" and name != "xml":
            self._describe(number, line)
            return True
        if self._mode == "xml":
            self._xml_line(number, line)
            return True
        if name == "description":
            self._mode = "description"
            event.lines["description"] = number
            event.last = number
            if value.strip():
                event.description.append(value)
        elif name == "xml":
            self._mode = "xml"
            event.last = number
            if value.strip():
                self._xml_line(number, value)
        else:
            event.put(name, value, number)
            if name == "log":
                event.language = language
        return True

    def _describe(self, number: int, line: str) -> None:
        event = self._open
        assert event is not None
        event.description.append(line)
        event.lines.setdefault("description", number)
        event.last = number

    def _xml_line(self, number: int, line: str) -> None:
        event = self._open
        assert event is not None
        event.last = number
        match = _SYSTEM_TIME.search(line)
        if match and event.system_time is None:
            event.system_time = match["time"]
            event.lines["systemtime"] = number
        if "<Data" in line and len(event.strings) < _MAX_STRINGS:
            event.strings += [html.unescape(m["value"]).strip() for m in _DATA.finditer(line)][:_MAX_STRINGS]
        if _XML_END in line:
            self._close()

    def _fl_line(self, number: int, line: str, blanks: int) -> bool:
        """A line of an open Format-List record; False when the record has ended and the line is not its."""
        event = self._open
        assert event is not None
        indent = len(line) - len(line.lstrip())
        if self._mode == "fl" and indent and not blanks:  # a wrapped value of another property
            event.last = number
            return True
        if self._mode == "fl-message" and indent >= self._fl_indent:
            event.description.extend("" for _ in self._held_blank)
            self._held_blank = []
            event.description.append(line)
            event.last = number
            return True
        match = _FL_LINE.match(line)
        if match and not match["indent"] and (blanks == 0 or self._mode == "fl-message"):
            key = match["label"].casefold()
            if key in _FL_KEYS:
                if _FL_FIELDS.get(key) in event.values or (key == "message" and event.description):
                    self._close()  # a property again: the next record
                    return False
                if blanks:
                    self._close()
                    return False
                self._held_blank = []
                self._fl_field(event, match, number)
                return True
        self._close()
        return False

    def _fl_field(self, event: _Event, match: re.Match[str], number: int) -> None:
        key = match["label"].casefold()
        self._mode = "fl"
        event.last = number
        if key == "entrytype" or key == "timegenerated" or key == "instanceid" or key == "eventid":
            event.layout = EventLayout.GET_EVENTLOG
        name = _FL_FIELDS.get(key)
        if name == "description":
            self._mode = "fl-message"
            self._fl_indent = max(1, match.start("value"))
            event.lines["description"] = number
            if match["value"].strip():
                event.description.append(match["value"])
        elif name is not None:
            event.put(name, match["value"], number)

    def finish(self) -> _Found:
        self._close()
        self._flush_paragraph()
        return self.found


def _fl_is_event(event: _Event) -> bool:
    values = event.values
    return bool(event.description) and "source" in values and ("id" in values or "instanceid" in values)


def level_of(text: str | None) -> EventLevel | None:
    """The level, from its name in any of the languages read, Get-EventLog's EntryType, or its number."""
    return _LEVELS.get(text.strip().casefold()) if text else None


def _event_id(event: _Event, notices: list[Notice], path: str) -> int | None:
    text = event.values.get("id")
    if text is not None and text.strip().isdecimal() and len(text.strip()) <= 6:
        return int(text.strip())
    instance = event.values.get("instanceid", "").strip()
    if instance.isdecimal() and len(instance) <= 12:
        return int(instance) & 0xFFFF  # the event id is the low 16 bits of EventLogEntry.InstanceId
    if text:
        notices.append(Notice(source=Source(path=path, line=event.lines.get("id")),
                              message=f"the event id {text.strip()[:40]!r} is not a number; ignored"))
    return None


def _time(event: _Event, notices: list[Notice], path: str) -> tuple[datetime | None, int | None]:
    if event.system_time:  # the XML's SystemTime: UTC
        whole, _, fraction = event.system_time.partition(".")
        try:
            moment = datetime.fromisoformat(whole).replace(microsecond=int((fraction + "000000")[:6]))
        except ValueError:
            pass
        else:
            return moment.replace(tzinfo=timezone.utc), event.lines.get("systemtime")
    text = event.values.get("date")
    if not text:
        return None, None
    line = event.lines.get("date")
    try:
        return parse_datetime(_western_date(text)), line
    except ValueError as exc:
        notices.append(Notice(source=Source(path=path, line=line),
                              message=f"the event's date: {exc}; not used",
                              hint="copy the event with its Event Xml (its SystemTime is unambiguous), or use "
                                   "Get-WinEvent ... | Select-Object @{n='TimeCreated';e={$_.TimeCreated.ToString('o')}}, ..."))
        return None, line


_EAST_ASIAN_TIME = re.compile(r"(上午|下午|午前|午後)\s*")


def _western_date(text: str) -> str:
    """Chinese and Japanese Event Viewers put 上午/下午 (午前/午後) before the time; the clock is read as AM/PM."""
    match = _EAST_ASIAN_TIME.search(text)
    if not match:
        return text
    marker = "PM" if match[1] in ("下午", "午後") else "AM"
    return _EAST_ASIAN_TIME.sub("", text).strip() + " " + marker


def _record(event: _Event, path: str, notices: list[Notice]) -> WindowsEvent:
    values = event.values
    description = " ".join(" ".join(event.description).split())
    if len(description) > _MAX_DESCRIPTION:
        notices.append(Notice(source=Source(path=path, line=event.lines.get("description")),
                              message=f"a description of {len(description)} characters; only the first "
                                      f"{_MAX_DESCRIPTION} are kept"))
        description = description[:_MAX_DESCRIPTION]
    strings = event.strings or (_included(event.description) if event.layout is not EventLayout.SAVED else [])
    moment, time_line = _time(event, notices, path)
    lines = {key: line for key, line in event.lines.items() if key != "systemtime"}
    if time_line is not None:
        lines["time"] = time_line
    level = level_of(values.get("level")) or level_of(values.get("levelnumber"))
    return WindowsEvent(
        source=Source(path=path, line=event.line),
        field_lines={_FIELD_KEYS.get(key, key): line for key, line in lines.items()},
        layout=event.layout,
        language=event.language,
        log_name=values.get("log") or None,
        provider=values.get("source") or None,
        event_id=_event_id(event, notices, path),
        event_id_from_wording=event.layout is EventLayout.DESCRIPTION,
        level=level,
        time=moment,
        computer=values.get("computer") or values.get("commandcomputer") or None,
        task_category=values.get("task") or None,
        description=description,
        insertion_strings=tuple(strings),
    )


def _included(lines: list[str]) -> list[str]:
    """The parameters Event Viewer lists when it cannot format the description (no message file on the computer
    that showed the event): the lines after "The following information was included with the event:"."""
    marker = next((i for i, line in enumerate(lines) if _INCLUDED in line.casefold()), None)
    if marker is None:
        return []
    found: list[str] = []
    for line in lines[marker + 1:]:
        if not line.strip():
            if found:
                break
            continue
        found.append(line.strip())
        if len(found) >= _MAX_STRINGS:
            break
    return found


_FIELD_KEYS = {"log": "logname", "source": "provider", "id": "eventid", "task": "taskcategory",
               "instanceid": "eventid"}


def _ranges(numbers: Iterable[int]) -> str:
    spans: list[list[int]] = []
    for number in numbers:
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    words = [f"{a}" if a == b else f"{a}-{b}" for a, b in spans[:8]]
    return ", ".join(words) + (", ..." if len(spans) > 8 else "")


_PIECE = 1 << 20  # characters split into lines at a time


def _lines(text: str) -> Iterator[str]:
    for piece in pieces(text, size=_PIECE):
        yield from piece.splitlines()


def _recognised(head: str) -> bool:
    """Event text: a copy layout's labels at the start of lines (the log's name, the event id and one more), a
    flattened copy, a Format-List event object, or a known Exchange event's wording."""
    copy_fields: set[str] = set()
    fl_keys: set[str] = set()
    for line in head.splitlines():
        if len(line) > 40 and _flattened(line) is not None:
            return True
        found = _copy_label(line)
        if found is not None:
            copy_fields.add(found[0])
        match = _FL_LINE.match(line)
        if match and not match["indent"]:
            fl_keys.add(match["label"].casefold())
    if {"log", "id"} <= copy_fields and len(copy_fields & {"source", "date", "level", "computer"}) >= 1:
        return True
    if "message" in fl_keys and fl_keys & {"providername", "source"} and fl_keys & {"id", "eventid", "instanceid"}:
        return True
    flat = " ".join(head.split())
    return any(wording.search(flat) for _, wording in WORDINGS)


class EventTextReader(EvidenceReader):
    """Windows events as text: Event Viewer copies (in several languages, whole or flattened), Get-WinEvent and
    Get-EventLog Format-List output, Exchange event descriptions pasted alone."""

    name = "Windows event text"

    def recognises(self, file: EvidenceFile) -> bool:
        return _recognised(file.head(16384))

    def read(self, file: EvidenceFile) -> Iterator[Record]:
        text, path = file.text, file.display
        scanner = _Scanner(path)
        found = scanner.found
        count = read = 0
        notices: list[Notice] = []
        for number, line in enumerate(_lines(text), start=1):
            scanner.feed(number, line)
            count = number
            if found.events:  # each event as it closes: a large file is not held as records
                read += len(found.events)
                for event in found.events:
                    yield _record(event, path, notices)
                found.events.clear()
                yield from notices
                notices.clear()
        scanner.finish()
        read += len(found.events)
        for event in found.events:
            yield _record(event, path, notices)
        yield from notices
        taken = bytearray(count + 2)
        for start, end in found.taken:
            taken[start:end + 1] = b"\x01" * (end + 1 - start)
        rest = "\n".join("" if taken[number] else line for number, line in enumerate(_lines(text), start=1))
        others = list(iter_console_text(rest, path)) if rest.strip() else []
        yield from others
        used = {number for record in others if record.fields
                for number in range(record.fields[0].line, record.fields[-1].line + 1)}
        left = [number for number, line in enumerate(rest.split("\n"), start=1)
                if line.strip() and number not in used and not _PROMPT.match(line)]
        if left:
            words = f"lines {_ranges(left)} are" if len(left) > 1 else f"line {left[0]} is"
            yield Notice(source=Source(path=path, line=left[0]),
                         message=f"{words} neither Windows events nor PowerShell output; passed over")
        if not read and not others:
            raise EvidenceError("no Windows events found", path=path,
                                hint="copy the event with Event Viewer's 'Copy details as text', or save "
                                     "Get-WinEvent ... | Format-List")


# --- Event Viewer's "Save All Events As..." CSV or tab-delimited text -------------------------------------------

# The header's "Date and Time" column, by language (the other columns use the copy layout's labels).
DATE_AND_TIME = ("Date and Time", "Datum und Uhrzeit", "Date et heure", "Fecha y hora", "Дата и время", "日期和时间",
                 "日付と時刻")
_DATE_AND_TIME = frozenset(label.casefold() for label in DATE_AND_TIME)


def _saved_header(line: str) -> tuple[str, str | None] | None:
    """(delimiter, language) when the line is the header Event Viewer writes: Level, Date and Time, Source,
    Event ID, Task Category."""
    for delimiter in ("\t", ","):
        cells = [cell.strip().strip('"') for cell in line.split(delimiter)]
        if len(cells) != 5:
            continue
        fields = [_LABEL_FIELD.get(cell.casefold()) for cell in cells]
        if (cells[1].casefold() in _DATE_AND_TIME and [f[0] if f else None for f in fields[:1] + fields[2:]]
                == ["level", "source", "id", "task"]):
            return delimiter, fields[0][1] if fields[0] else None
    return None


def _keep_ends(text: str) -> Iterator[str]:
    for piece in pieces(text, size=_PIECE):
        yield from piece.splitlines(keepends=True)


class EventViewerSavedReader(EvidenceReader):
    """Event Viewer's "Save All Events As..." (or "Save Selected Events...") as CSV or tab-delimited text: a header
    of five columns and rows of six, the sixth the description (quoted, over several lines)."""

    name = "Event Viewer saved events"

    def recognises(self, file: EvidenceFile) -> bool:
        return _saved_header(file.first_line()) is not None

    def read(self, file: EvidenceFile) -> Iterator[Record]:
        path = file.display
        header = _saved_header(file.first_line())
        assert header is not None
        delimiter, language = header
        notices: list[Notice] = []
        rows = csv.reader(_keep_ends(file.text), delimiter=delimiter)
        line, started = 1, False
        try:
            for row in rows:
                if not any(cell.strip() for cell in row) or not started:
                    started = started or any(cell.strip() for cell in row)  # the header: the first row with text
                    line = rows.line_num + 1
                    continue
                if len(row) < 5:
                    raise EvidenceError(f"a row of {len(row)} values where Event Viewer writes 6", path=path, line=line)
                event = _Event(layout=EventLayout.SAVED, line=line, language=language, last=rows.line_num)
                for name, value in zip(("level", "date", "source", "id", "task"), row, strict=False):
                    event.put(name, value, line)
                event.description = row[5:6]
                event.strings = _included(row[5].splitlines()) if len(row) > 5 else []
                event.lines["description"] = line
                yield _record(event, path, notices)
                yield from notices
                notices.clear()
                line = rows.line_num + 1
        except csv.Error as exc:
            raise EvidenceError(f"not Event Viewer's saved text: {exc}", path=path, line=rows.line_num or line) from None
