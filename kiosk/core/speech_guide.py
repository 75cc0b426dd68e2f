"""What the kiosk says, and when: the screens' words, the focus, speech mode (no Kivy).

The screens hand over what a citizen sees as :class:`Line` items (the words, the msgid
they were translated from when there is one, and what kind of thing they are: a text, a
button, a choice, a field); :class:`SpeechGuide` decides what to say and says it through
the one audio player (``devices.audio.Player``: its calls never block).

- "Dengarkan" (:meth:`listen`) speaks the whole screen, always.
- Speech mode (started from Welcome, by a headset, or by the first key of a keypad)
  speaks each new screen's words (:meth:`screen_shown`), the control that gains the focus
  ring (:meth:`focused`) and a control that is tapped (:meth:`tapped`), and the idle
  warning; outside it, the focus ring still speaks what it lands on, because the keypad is
  how a citizen who cannot see the screen gets around.
- Whatever is said is cut by the next thing to say and by navigating (:meth:`stop`);
  :meth:`end_session` silences it and puts the volume back, and speech mode stays on only
  while a headset is plugged.

Every utterance carries a label for the player's log: the msgid of a catalogue message,
or a fixed word for anything else ("text", "typed text", "tracking-id"), so a log never
holds what a citizen typed. What was said in this session is kept in memory
(:attr:`said`, emptied at the session's end) for the tests to read.
"""
from __future__ import annotations

import dataclasses
import enum
import logging
from collections.abc import Callable, Iterable, Sequence

from kiosk.kernel.i18n import N_, gettext_for
from kiosk.kernel.spoken import speech_text, spoken_tracking_id

log = logging.getLogger(__name__)


class Kind(str, enum.Enum):
    TEXT = "text"          # a heading, an explanation, an error
    BUTTON = "button"
    CHOICE = "choice"      # one answer of a question (chosen or not)
    FIELD = "field"        # a text field (its hint, and what is typed in it)
    TRACKING_ID = "tracking_id"


@dataclasses.dataclass(frozen=True)
class Line:
    """One thing on the screen, as a citizen would hear it."""

    text: str
    msgid: str | None = None  # the catalogue's message: a recorded clip, the log's label
    kind: Kind = Kind.TEXT
    chosen: bool | None = None  # a choice: chosen or not
    typed: str = ""  # a field: what the citizen typed
    private: bool = False  # citizen text (the review's lines): never in a log
    label: str = ""  # the log's label when there is no msgid (a message with numbers in it)


#: The words said after a control's own (msgids, so a kabupaten may record them too).
CHOSEN = N_("chosen")
NOT_CHOSEN = N_("not chosen")
TEXT_FIELD = N_("text field")
EMPTY = N_("empty")
SPEECH_ON = N_("Voice guidance is on. Use the up and down keys to move, and Enter to choose.")
SPEECH_OFF = N_("Voice guidance is off.")
MORE_TIME = N_("Are you still there? Press any key or touch the screen for more time.")
VOLUME = N_("Volume {percent} percent")
CHOICES = N_("{count} choices. Press the down key to hear them.")
RECORDING_LEFT = N_("{seconds} seconds left")
SPEAK_NOW = N_("Speak now.")
#: Seconds left of a spoken complaint at which voice guidance says so.
COUNTDOWN_MARKS = (60, 30, 10)
HELP = N_("Keys: up and down move between the choices, Enter chooses, Back returns, "
          "plus and minus change the volume, star says it again.")


@dataclasses.dataclass(frozen=True)
class Said:
    """One utterance handed to the player: its label (as logged) and its text."""

    label: str
    text: str


class SpeechGuide:
    """Speech for one kiosk: ``player`` is a :class:`devices.audio.Player` (or anything
    with its ``speak``/``stop``/``repeat``/``volume_up``/``volume_down``/``reset``)."""

    def __init__(self, player_factory: Callable[[], object] | None, *, language: str = "id"):
        self._player_factory = player_factory
        self._player = None
        self.language = language
        self.mode = False
        self.headset = False
        self.said: list[Said] = []

    # -- the player, made at the first word (an idle kiosk loads no voice) -------------
    @property
    def available(self) -> bool:
        return self._player_factory is not None

    def _the_player(self):
        if self._player is None and self._player_factory is not None:
            self._player = self._player_factory()
        return self._player

    # -- modes -----------------------------------------------------------------------------
    def set_mode(self, on: bool, *, announce: bool = True) -> None:
        """Speech mode on or off (the Welcome button, a headset, the first keypad key)."""
        if on == self.mode:
            return
        self.mode = on
        log.info("speech mode %s", "on" if on else "off")
        if announce:
            self._say_now([self._message(SPEECH_ON if on else SPEECH_OFF)])

    def headset_changed(self, plugged: bool) -> None:
        """A headset plugged switches speech mode on; unplugged, it stays on until the
        session ends (the citizen is in the middle of something)."""
        self.headset = plugged
        if plugged:
            self.set_mode(True)

    def end_session(self) -> None:
        """The citizen has gone: silence, the default volume, and speech mode only while
        a headset is plugged (the next citizen starts as the kiosk is)."""
        player = self._player
        if player is not None:
            player.reset()
        self.mode = self.headset
        self.said.clear()

    # -- what is said ----------------------------------------------------------------------
    def listen(self, lines: Sequence[Line]) -> None:
        """"Dengarkan": the whole screen, whatever the mode."""
        self._say_now(lines)

    def screen_shown(self, lines: Sequence[Line], *, choices: int = 0) -> None:
        """A new screen: what was being said stops; in speech mode its words are said,
        and how many answers it offers."""
        self.stop()
        if not self.mode:
            return
        extra = [self._message(CHOICES, count=choices)] if choices > 1 else []
        self._say_now(list(lines) + extra)

    def focused(self, lines: Sequence[Line]) -> None:
        """The focus ring moved onto a control: what it says (its words, its state)."""
        self._say_now(lines)

    def listen_more(self, lines: Sequence[Line]) -> None:
        """Said after what is being said (help, then the screen)."""
        self._say(lines)

    def help_line(self) -> Line:
        return self._message(HELP)

    def tapped(self, line: Line) -> None:
        """A control was tapped: said in speech mode (a citizen exploring by touch)."""
        if self.mode:
            self._say_now([line])

    def idle_warning(self) -> None:
        if self.mode:
            self._say_now([self._message(MORE_TIME)])

    def tracking_id(self, intro: Line, tracking_id: str) -> None:
        """The receipt's number, symbol by symbol in its groups, after ``intro``."""
        self._say_now([intro, Line(tracking_id, kind=Kind.TRACKING_ID)])

    def recording_started(self) -> None:
        """A spoken complaint begins: whatever was being said stops, and voice guidance says
        only "Bicara sekarang" (the kiosk's voice is not to fill the recording)."""
        self.stop()
        if self.mode:
            self._say_now([self._message(SPEAK_NOW)])

    def countdown(self, seconds_left: int) -> None:
        """While a complaint is spoken: "60 seconds left" (voice guidance only; short, so
        little of it reaches the recording through a speaker)."""
        if self.mode:
            self._say_now([self._message(RECORDING_LEFT, seconds=seconds_left)])

    def repeat(self) -> None:
        player = self._player
        if player is not None:
            player.repeat()

    def volume(self, step: int) -> int:
        """One step louder (``step`` > 0) or softer; says the new volume."""
        player = self._the_player()
        if player is None:
            return 0
        percent = player.volume_up() if step > 0 else player.volume_down()
        self._say_now([self._message(VOLUME, percent=percent)])
        return percent

    def stop(self) -> None:
        player = self._player
        if player is not None:
            player.stop()

    # -- words -----------------------------------------------------------------------------
    def _message(self, msgid: str, **params) -> Line:
        text = gettext_for(self.language)(msgid)
        if params:  # a recorded clip cannot say the numbers: synthesised, labelled by its msgid
            return Line(text.format(**params), label=msgid)
        return Line(text, msgid=msgid)

    def utterances(self, line: Line) -> list[tuple[str, str | None, str]]:
        """(text, msgid, label) to speak for ``line``, in order."""
        gettext = gettext_for(self.language)
        if line.kind is Kind.TRACKING_ID:
            try:
                return [(spoken_tracking_id(line.text, self.language), None, "tracking-id")]
            except ValueError:
                return []
        label = line.msgid or line.label or ("typed text" if line.private else "text")
        out: list[tuple[str, str | None, str]] = []
        if line.text.strip():
            out.append((speech_text(line.text, self.language), line.msgid, label))
        if line.kind is Kind.CHOICE and line.chosen is not None:
            word = CHOSEN if line.chosen else NOT_CHOSEN
            out.append((gettext(word), word, word))
        elif line.kind is Kind.FIELD:
            out.append((gettext(TEXT_FIELD), TEXT_FIELD, TEXT_FIELD))
            if line.typed.strip():
                out.append((speech_text(line.typed, self.language), None, "typed text"))
            else:
                out.append((gettext(EMPTY), EMPTY, EMPTY))
        return out

    def _say_now(self, lines: Iterable[Line]) -> None:
        player = self._the_player()
        if player is None:
            return
        player.stop()
        self._say(lines)

    def _say(self, lines: Iterable[Line]) -> None:
        player = self._the_player()
        if player is None:
            return
        for line in lines:
            for text, msgid, label in self.utterances(line):
                player.speak(text, self.language, msgid, label=label)
                self.said.append(Said(label, text))
