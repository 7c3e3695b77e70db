"""A small rule-based parser for the planner's common chat requests (the offline adapter's brain).

:func:`parse_request` turns one user message into an :class:`Intent`: the agent tool to call and
its arguments, or ``help`` when the request is not understood. It knows these phrasings
(case-insensitive, trailing punctuation ignored):

==================  ===========================================================================
tool                examples
==================  ===========================================================================
``create_task``     ``create "Write report" due Friday``; ``add task buy milk tomorrow high
                    priority 30 min``; ``new task: call Bob at 3pm``; ``remind me to pay rent on
                    the 1st of Jan``
``update_task``     ``move the dentist task to Friday``; ``move X to tomorrow 3pm``; ``reschedule
                    X for next Monday``; ``make X high priority``; ``set the priority of X to low``;
                    ``X will take 45 min``; ``mark X in progress`` / ``blocked``
``complete_task``   ``complete X``; ``finish X``; ``mark X done`` / ``as complete``; ``X is done``
``show_plan``       ``what's my plan today``; ``show my plan for tomorrow``; ``what's on my
                    schedule Friday``; ``what do I have on Friday``; ``what's next``; ``plan?``
``replan_day``      ``replan``; ``replan my day``; ``re-plan the rest of the day``
``search_tasks``    ``find dentist``; ``search for report``; ``show my open tasks``; ``list tasks
                    about taxes``
==================  ===========================================================================

Arguments use the agent's parameter names: ``title`` (the task as the user named it, quotes and
"the … task" removed), ``due`` (``YYYY-MM-DD``, or an ISO timestamp with offset when a time was
given), ``scheduled_start`` (ISO timestamp), ``priority`` (``low|medium|high|urgent``),
``estimate_minutes`` (int), ``status`` (``todo|in_progress|blocked|done|cancelled``), ``date``
(``YYYY-MM-DD``), ``query``. Relative dates follow :mod:`shared.llm.when`. Moving a task to a day
sets ``due``; moving it to a day and time sets ``scheduled_start``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.llm.when import When, extract_when

PRIORITIES = ("low", "medium", "high", "urgent")
STATUSES = ("todo", "in_progress", "blocked", "done", "cancelled")


@dataclass(frozen=True)
class Intent:
    """What the user asked for: a tool and its arguments, or ``tool=None`` for help."""

    tool: str | None
    arguments: dict[str, Any] = field(default_factory=dict)
    reason: str = ""  # for help: why nothing was understood (shown to the user)


HELP = Intent(tool=None)

_I = re.IGNORECASE
_QUOTED = re.compile(r"[\"“”«»]([^\"“”«»]+)[\"“”«»]|(?<!\w)'([^']+)'(?!\w)")
_POLITE = re.compile(r"^(?:(?:please|pls|ok|okay|hey|can you|could you|would you|i want to|i'd like to)[\s,]+)+", _I)
_POLITE_END = re.compile(r"(?:[\s,]+(?:please|pls|thanks|thank you|for me))+$", _I)

_PRIORITY_PATTERNS = (
    (re.compile(r"\b(?:urgent(?:ly)?|asap)\b", _I), "urgent"),
    (re.compile(r"\b(?:with\s+)?(?P<level>high|medium|normal|low)[\s-]+prio(?:rity)?\b", _I), None),
    (re.compile(r"\b(?:with\s+)?prio(?:rity)?\s*(?::|is|to|=)?\s*(?P<level>urgent|high|medium|normal|low)\b", _I), None),
    (re.compile(r"\bimportant\b", _I), "high"),
)
_ESTIMATE_PATTERNS = (
    re.compile(r"\bhalf\s+an\s+hour\b", _I),
    re.compile(r"\b(?:an|one)\s+hour\b", _I),
    re.compile(r"\b(?P<h>\d+)h\s*(?P<m>\d{1,2})(?:\s*(?:m|mins?|minutes?))?\b", _I),  # 1h30, 1h 30m
    re.compile(
        r"\b(?P<h>\d+(?:\.\d+)?)\s*(?:h|hrs?|hours?)\b(?:\s*(?:and\s+)?(?P<m>\d+)\s*(?:m|mins?|minutes?)\b)?",
        _I,
    ),
    re.compile(r"\b(?P<m>\d+)\s*(?:m|mins?|minutes?)\b", _I),
)
_STATUS_WORDS = {
    "done": "done",
    "complete": "done",
    "completed": "done",
    "finished": "done",
    "in progress": "in_progress",
    "started": "in_progress",
    "blocked": "blocked",
    "todo": "todo",
    "to do": "todo",
    "open": "todo",
    "cancelled": "cancelled",
    "canceled": "cancelled",
}
# Words left dangling at the ends of a title once dates, priorities and estimates are cut out.
_DANGLING = re.compile(
    r"^(?:\s*(?:to|for|a|an|the|task|todo|called|named|:|-|,)\b)+|(?:\s*\b(?:due|by|on|at|for|with|and|in|until|till|,|-|:)\s*)+$",
    _I,
)


def _clean(text: str) -> str:
    text = " ".join(text.split())
    return text.strip().rstrip(".!?").strip()


def _quoted(text: str) -> tuple[str | None, str]:
    match = _QUOTED.search(text)
    if match is None:
        return None, text
    title = (match.group(1) or match.group(2)).strip()
    return title, f"{text[: match.start()]} {text[match.end() :]}"


def _reference(text: str) -> str:
    """A task as the user referred to it: ``the "Dentist" task`` → ``Dentist``."""
    quoted, _ = _quoted(text)
    if quoted:
        return quoted
    ref = _clean(text)
    ref = re.sub(r"^(?:the|my|this|that)\s+", "", ref, flags=_I)
    ref = re.sub(r"\s+(?:task|todo|to-do|item)$", "", ref, flags=_I)
    ref = re.sub(r"^(?:task|todo)\s+", "", ref, flags=_I)
    return ref.strip()


def _take_priority(text: str) -> tuple[str | None, str]:
    for pattern, fixed in _PRIORITY_PATTERNS:
        match = pattern.search(text)
        if match:
            level = fixed or match["level"].lower()
            return ("medium" if level == "normal" else level), f"{text[: match.start()]} {text[match.end() :]}"
    return None, text


def _take_estimate(text: str) -> tuple[int | None, str]:
    for pattern in _ESTIMATE_PATTERNS:
        match = pattern.search(text)
        if not match:
            continue
        phrase = match.group(0).lower()
        if phrase.startswith("half"):
            minutes = 30
        elif phrase.startswith(("an", "one")):
            minutes = 60
        else:
            groups = match.groupdict()
            hours = float(groups.get("h") or 0)
            minutes = int(round(hours * 60)) + int(groups.get("m") or 0)
        if minutes <= 0:
            continue
        return minutes, f"{text[: match.start()]} {text[match.end() :]}"
    return None, text


def _strip_dangling(text: str) -> str:
    previous = None
    while previous != text:
        previous, text = text, _DANGLING.sub("", text).strip()
    return text


def _when_argument(when: When, tz) -> str:
    return when.iso(tz)


# --- the intents, tried in order -----------------------------------------------------------------

_REPLAN = re.compile(
    r"^(?:re-?plan|re-?schedule|reorgani[sz]e)(?:\s+(?:my|the))?(?:\s+(?:rest\s+of\s+(?:my|the)\s+)?(?:day|today|schedule|plan))?$"
    r"|^(?:re-?plan|re-?do|rebuild|update)\s+(?:my|the|today'?s)\s+plan$",
    _I,
)
_PLAN = re.compile(
    r"^(?:what(?:'s|’s|\s+is)?|whats|show(?:\s+me)?|see|give\s+me|how\s+does|how's|display|get)\b.*\b(?:plan|schedule|agenda|day)\b"
    r"|^(?:my\s+)?(?:plan|schedule|agenda)\b"
    r"|^what(?:'s|’s|\s+is)?\s+(?:on|happening|next)\b|^whats\s+(?:on|next)\b|^what\s+do\s+i\s+have\b",
    _I,
)
_COMPLETE = (
    re.compile(r"^(?:complete|finish|close|check\s+off|tick\s+off|done\s+with|i\s+(?:finished|completed|did))\s+(?P<ref>.+)$", _I),
    re.compile(r"^mark\s+(?P<ref>.+?)\s+(?:as\s+)?(?:done|complete|completed|finished)$", _I),
    re.compile(r"^(?P<ref>.+?)\s+is\s+(?:done|finished|complete|completed)$", _I),
)
_MARK_STATUS = re.compile(
    r"^mark\s+(?P<ref>.+?)\s+(?:as\s+)?(?P<status>in\s+progress|started|blocked|to\s*do|open|cancell?ed)$", _I
)
_MOVE = re.compile(
    r"^(?:move|reschedule|push|postpone|shift|change|put|schedule|plan)\s+(?P<ref>.+?)\s+(?:to|until|till|for|on|at)\s+(?P<when>.+)$",
    _I,
)
_SET_PRIORITY = (
    re.compile(r"^(?:set|change)\s+(?:the\s+)?prio(?:rity)?\s+(?:of|for|on)\s+(?P<ref>.+?)\s+to\s+(?P<level>urgent|high|medium|normal|low)$", _I),
    re.compile(r"^(?:make|set|mark|change)\s+(?P<ref>.+?)\s+(?:to\s+|as\s+)?(?P<level>urgent|high|medium|normal|low)(?:[\s-]+prio(?:rity)?)?$", _I),
)
_SET_ESTIMATE = (
    re.compile(r"^(?P<ref>.+?)\s+(?:will\s+take|takes|should\s+take|needs)\s+(?P<amount>.+)$", _I),
    re.compile(r"^(?:set|change)\s+(?:the\s+)?estimate\s+(?:of|for|on)\s+(?P<ref>.+?)\s+to\s+(?P<amount>.+)$", _I),
    re.compile(r"^estimate\s+(?P<ref>.+?)\s+(?:at|to)\s+(?P<amount>.+)$", _I),
)
_CREATE = (
    re.compile(
        r"^(?:create|add|new|make|schedule)(?:\s+(?:a|an))?(?:\s+new)?(?:\s+(?:task|todo|to-do|reminder|item))?(?:\s*(?::|called|named|titled))?\s+(?P<rest>.+)$",
        _I,
    ),
    re.compile(r"^(?:new\s+)?(?:task|todo|to-do)\s*:\s*(?P<rest>.+)$", _I),
    re.compile(r"^(?:remind\s+me\s+to|i\s+(?:need|have)\s+to)\s+(?P<rest>.+)$", _I),
)
_SEARCH = (
    re.compile(r"^(?:find|search(?:\s+for)?|look\s+(?:for|up))\s+(?:(?:the|my)\s+)?(?:tasks?\s+)?(?:about\s+|for\s+|called\s+|named\s+)?(?P<query>.+)$", _I),
    re.compile(
        r"^(?:show|list|what\s+are)(?:\s+me)?(?:\s+all)?(?:\s+(?:my|the))?(?:\s+(?P<status>open|done|completed|finished|blocked|in\s+progress|cancell?ed))?\s+(?:tasks?|todos?)"
        r"(?:\s+(?:about|for|with|matching|called|named|on)\s+(?P<query>.+))?$",
        _I,
    ),
)


def parse_request(text: str, *, now: datetime, tz) -> Intent:
    """The intent of one user message; ``now`` is the user's local time (aware), ``tz`` its zone."""
    message = _POLITE_END.sub("", _POLITE.sub("", _clean(text or "")))
    if not message:
        return HELP

    if _REPLAN.match(message):
        return Intent("replan_day")

    for pattern in _COMPLETE:
        match = pattern.match(message)
        if match and _reference(match["ref"]):
            return Intent("complete_task", {"title": _reference(match["ref"])})

    match = _MARK_STATUS.match(message)
    if match and _reference(match["ref"]):
        status = _STATUS_WORDS[" ".join(match["status"].lower().split()).replace("to do", "todo").replace("canceled", "cancelled")]
        return Intent("update_task", {"title": _reference(match["ref"]), "status": status})

    for pattern in _SET_PRIORITY:
        match = pattern.match(message)
        if match and _reference(match["ref"]):
            level = match["level"].lower()
            return Intent("update_task", {"title": _reference(match["ref"]), "priority": "medium" if level == "normal" else level})

    for pattern in _SET_ESTIMATE:
        match = pattern.match(message)
        if match:
            minutes, leftover = _take_estimate(match["amount"])
            if minutes and not _strip_dangling(leftover) and _reference(match["ref"]):
                return Intent("update_task", {"title": _reference(match["ref"]), "estimate_minutes": minutes})

    match = _MOVE.match(message)
    # "schedule a call at 3pm" creates a task; "schedule the call at 3pm" moves one.
    if match and not re.match(r"^(?:a|an|new)\s", match["ref"], _I):
        when, leftover = extract_when(match["when"], now=now)
        if when is not None and not _strip_dangling(leftover) and _reference(match["ref"]):
            key = "scheduled_start" if when.at is not None else "due"
            return Intent("update_task", {"title": _reference(match["ref"]), key: _when_argument(when, tz)})
        if match.group(0).split()[0].lower() in ("move", "reschedule", "postpone", "push"):
            return Intent(None, reason="I could not tell when to move it to; try “move X to Friday” or “to tomorrow 3pm”.")

    if _PLAN.match(message) and not any(p.match(message) for p in _CREATE):
        when, _ = extract_when(message, now=now)
        day = when.day if when is not None else now.date()
        return Intent("show_plan", {"date": day.isoformat()})

    for pattern in _CREATE:
        match = pattern.match(message)
        if match:
            intent = _create(match["rest"], now=now, tz=tz)
            if intent is not None:
                return intent

    for pattern in _SEARCH:
        match = pattern.match(message)
        if match:
            arguments: dict[str, Any] = {"query": _reference(match["query"] or "") if match["query"] else ""}
            status = match.groupdict().get("status")
            if status:
                word = " ".join(status.lower().split())
                arguments["status"] = _STATUS_WORDS.get(word, "todo")
            return Intent("search_tasks", arguments)

    return HELP


def _create(rest: str, *, now: datetime, tz) -> Intent | None:
    title, rest = _quoted(rest)
    priority, rest = _take_priority(rest)
    estimate, rest = _take_estimate(rest)
    when, rest = extract_when(rest, now=now)
    if title is None:
        title = _strip_dangling(_clean(rest))
    if not title:
        return None
    arguments: dict[str, Any] = {"title": title}
    if when is not None:
        arguments["due"] = _when_argument(when, tz)
    if priority:
        arguments["priority"] = priority
    if estimate:
        arguments["estimate_minutes"] = estimate
    return Intent("create_task", arguments)
