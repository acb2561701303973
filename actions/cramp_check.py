"""The guided cramp check: a Rasa form over the questions of `data/knowledge/cramp_check.yml`.

- `action_start_cramp_check` fills in every answer the person already stated this session ("I run
  marathons and sweat a lot", "I'm 20 weeks pregnant"), so the form skips those questions.
- `validate_cramp_check_form` reads each answer (buttons or free text), triages the message like
  every other turn, answers a side question and asks again, accepts "skip" / "not sure", and asks
  once more with an example before moving on. A reply that also answers later questions ("at night,
  most days") fills them too. An emergency ends the check at once.
- `action_cramp_check_summary` gives the tier's action first (when there is one), then the possible
  causes the article describes that fit, each with advice cited to its own section, then the
  article's full "see a provider if" list. Its sentences are data (phrases.yml, cramp_check.yml).
"""

from __future__ import annotations

from typing import Any, Collection, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import config
from actions.answers import citation, entity_values, send_answer
from actions.cramp_check_rules import (
    NOT_ASKED,
    NOT_SURE,
    SKIPPED,
    Answer,
    CrampCheck,
    SummaryItem,
    agreed_answer,
    answer_signs,
    answers_tier,
    cramp_check,
    facts_from,
    rank_causes,
    read_answer,
    read_unprompted,
    stated_medicines,
)
from actions.history import highest_urgency, session_events
from actions.knowledge import KnowledgeError, Topic, knowledge, phrases, topic_for_intent
from actions.topics import QUESTION_OPENERS, followup_treatment
from actions.triage import Reply, TriagedAction, Verdict, escalate, reported_signs, triage_of
from cramp_nlu.escalation import wording
from cramp_nlu.terms import max_tier, tier_rank

FORM_NAME = "cramp_check_form"
RETRY_SLOT = "check_retry"
STOPPED_SLOT = "check_stopped"
#: intents that leave the check when the message does not also answer the question
LEAVING_INTENTS = ("stop_form", "start_over")
#: a red-flag finding with any of these is not the person's own sign now
NOT_STATED = ("negated", "hypothetical", "long_standing", "past")


def article_medicines() -> List[str]:
    """The medicines the article names as possible causes."""
    return [m.name for m in knowledge()["cause_medication"].medicines]


def _session_user_messages(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The parse data of this session's user messages (with the text, should it lack one)."""
    messages: List[Dict[str, Any]] = []
    for event in session_events(events):
        if event.get("event") == "user":
            parse = event.get("parse_data") or {}
            messages.append({**parse, "text": parse.get("text") or event.get("text") or ""})
    return messages


def stated_signs(message: Dict[str, Any]) -> List[str]:
    """The red-flag signs, and combinations of them, that a message states as the person's own
    now: not denied, asked about, lifelong or past ("no swelling" gives none)."""
    triage = triage_of(message)
    findings = triage.get("findings", [])
    signs = [f["sign"] for f in findings if not any(f.get(k) for k in NOT_STATED)]
    found = {f["sign"] for f in findings}
    combinations = [r for r in triage.get("reasons", []) if r not in found]
    return list(dict.fromkeys(signs + combinations))


def read_message(
    check: CrampCheck, message: Dict[str, Any], leave_out: Collection[str] = ()
) -> Dict[str, Answer]:
    """Every answer a message states by itself, for the questions not in `leave_out`."""
    text = message.get("text") or ""
    named = [
        (str(e.get("value", "")), str(e.get("text") or e.get("value") or ""))
        for e in message.get("entities", [])
        if e.get("entity") == "medication"
    ]
    medicines = stated_medicines(check, text, named)
    signs = stated_signs(message)
    answers: Dict[str, Answer] = {}
    for question in check.questions:
        if question.slot in leave_out:
            continue
        answer = read_unprompted(check, question, text, medicines=medicines, signs=signs)
        if answer is not None:
            answers[question.slot] = answer
    return answers


def known_answers(events: List[Dict[str, Any]]) -> Dict[str, Answer]:
    """What earlier messages of this session already told us, question by question: the same
    reading as the answers themselves, kept only where it is clear (see `read_unprompted`)."""
    check = cramp_check()
    told: Dict[str, List[Answer]] = {}
    for message in _session_user_messages(events):
        for slot, answer in read_message(check, message).items():
            told.setdefault(slot, []).append(answer)
    known: Dict[str, Answer] = {}
    for slot, answers in told.items():
        agreed = agreed_answer(check.question(slot), answers)
        if agreed is not None:
            known[slot] = agreed
    return known


def with_story_answers(
    check: CrampCheck, answers: Dict[str, Any], events: List[Dict[str, Any]]
) -> Dict[str, Any]:
    """The form's answers plus what the story told for an always-asked question: a sign told
    before the check ("my soles go numb") still counts when the reply to the red-flag question
    is "not sure"."""
    told = known_answers(events)
    merged = dict(answers)
    for question in check.questions:
        story = told.get(question.slot)
        if not question.always_asked or story is None:
            continue
        own = merged.get(question.slot)
        if question.multi:
            values = [v for v in _as_list(own) if v not in (NOT_SURE, SKIPPED, NOT_ASKED)]
            story_values = [v for v in _as_list(story) if v != "none"]
            if story_values:
                merged[question.slot] = list(dict.fromkeys(values + story_values))
        elif own in (None, NOT_SURE, SKIPPED, NOT_ASKED):
            merged[question.slot] = story
    return merged


def _as_list(value: Any) -> List[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def answers_a_new_message(events: List[Dict[str, Any]]) -> bool:
    """Whether the form runs right after a user message (not at activation or on resuming).

    Only slot extraction (its slot events, the featurization marker) and the running form
    action itself may sit in between.
    """
    for event in reversed(events):
        kind = event.get("event")
        if kind == "user":
            return True
        if kind in ("slot", "user_featurization") or (
            kind == "action" and event.get("name") in ("action_extract_slots", FORM_NAME)
        ):
            continue
        return False
    return False


def with_topic_once(events: List[EventType]) -> List[EventType]:
    """A form turn answers no topic unless a side question was answered: `topic` set once."""
    if any(e.get("event") == "slot" and e.get("name") == "topic" for e in events):
        return events
    return events + [SlotSet("topic", None)]


def looks_like_a_question(text: str) -> bool:
    words = text.lower().split()
    return len(words) >= 4 and (text.strip().endswith("?") or words[0] in QUESTION_OPENERS)


class ActionStartCrampCheck(TriagedAction):
    """Introduces the check and pre-fills what the person has already said."""

    def name(self) -> Text:
        return "action_start_cramp_check"

    async def reply(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
        verdict: Verdict,
    ) -> Reply:
        check = cramp_check()
        already = {
            slot: tracker.get_slot(slot)
            for slot in check.slots
            if tracker.get_slot(slot) is not None
        }
        known = {
            slot: value
            for slot, value in known_answers(tracker.events).items()
            if slot not in already and not check.question(slot).always_asked
        }
        if already:
            dispatcher.utter_message(response="utter_cramp_check_resume")
        else:
            dispatcher.utter_message(response="utter_cramp_check_intro")
        if known:
            dispatcher.utter_message(response="utter_cramp_check_known")
        return Reply(
            events=[SlotSet(slot, value) for slot, value in known.items()]
            + [SlotSet(RETRY_SLOT, None)]
        )


class ValidateCrampCheckForm(FormValidationAction):
    """Reads every answer of the cramp check (one validator for all questions)."""

    def name(self) -> Text:
        return "validate_cramp_check_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        check = cramp_check()
        # the form is also validated at activation and when it resumes; only a new user
        # message is triaged here (action_start_cramp_check triaged the first one)
        user_turn = (tracker.active_loop or {}).get("name") == FORM_NAME and answers_a_new_message(
            tracker.events
        )
        events: List[EventType] = []
        if user_turn and self._wants_to_leave(tracker, check):
            tier = escalate(dispatcher, tracker).tier
            # ending the form with check_stopped set: the summary action says "paused" instead
            requested = tracker.get_slot("requested_slot")
            cleared = [SlotSet(requested, None)] if requested in check.slots else []
            return with_topic_once(
                [
                    SlotSet("urgency", tier),
                    *cleared,
                    SlotSet(STOPPED_SLOT, True),
                    SlotSet("requested_slot", None),
                ]
            )
        if user_turn:
            tier = escalate(dispatcher, tracker).tier
            events = [SlotSet("urgency", tier)]
            if tier == "emergency":
                # stop asking: close every open question so the form ends and the summary follows
                requested = tracker.get_slot("requested_slot")
                open_slots = [
                    s for s in check.slots if tracker.get_slot(s) is None or s == requested
                ]
                dispatcher.utter_message(response="utter_cramp_check_ended_early")
                return with_topic_once(
                    events
                    + [SlotSet(s, NOT_ASKED) for s in open_slots]
                    + [SlotSet(RETRY_SLOT, None)]
                )
        # slots filled this turn by the form (from_text) or by action_start_cramp_check
        for slot, value in tracker.slots_to_validate().items():
            if slot in check.slots:
                events += self._validate_one(dispatcher, tracker, check, slot, value, user_turn)
        return with_topic_once(events) if user_turn else events

    def _validate_one(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        check: CrampCheck,
        slot: str,
        value: Any,
        user_turn: bool,
    ) -> List[EventType]:
        question = check.question(slot)
        canonical = (
            isinstance(value, list)
            or value in question.answers
            or value in (NOT_ASKED, NOT_SURE, SKIPPED)
        )
        if canonical or not user_turn:
            return [SlotSet(slot, value)]  # pre-filled, a button payload, or already read
        message = tracker.latest_message or {}
        text = str(value)
        answer = read_answer(
            question,
            text,
            medicines=entity_values(tracker, "medication"),
            signs=reported_signs(message),
            skip_words=check.skip_words,
            unsure_words=check.unsure_words,
        )
        side_topic = self._side_question(message, text)
        if side_topic and (answer is None or looks_like_a_question(text)):
            send_answer(
                dispatcher,
                knowledge(),
                knowledge()[side_topic],
                entity_values(tracker, "medication"),
                with_buttons=False,
            )
            dispatcher.utter_message(response="utter_cramp_check_back")
            return [SlotSet(slot, None), SlotSet("topic", side_topic)]
        also = self._also_answered(tracker, check, slot)
        if answer is None and slot == "check_medicines":
            answer = ["other"]  # we cannot know every medicine's name: keep it as "other"
        if answer is None:
            if tracker.get_slot(RETRY_SLOT) == slot:
                dispatcher.utter_message(response="utter_cramp_check_moving_on")
                return [SlotSet(slot, NOT_SURE), SlotSet(RETRY_SLOT, None), *also]
            dispatcher.utter_message(
                text=phrases().text("cramp_check.unclear_answer", example=question.example)
            )
            return [SlotSet(slot, None), SlotSet(RETRY_SLOT, slot), *also]
        return [SlotSet(slot, answer), SlotSet(RETRY_SLOT, None), *also]

    @staticmethod
    def _also_answered(tracker: Tracker, check: CrampCheck, slot: str) -> List[EventType]:
        """The other open questions the same reply answers ("at night, most days, since I
        started a job on my feet"): set now, so the form does not ask them."""
        filled = {s for s in check.slots if s == slot or tracker.get_slot(s) is not None}
        filled |= {q.slot for q in check.questions if q.always_asked}
        told = read_message(check, tracker.latest_message or {}, leave_out=filled)
        return [SlotSet(s, value) for s, value in told.items()]

    @staticmethod
    def _wants_to_leave(tracker: Tracker, check: CrampCheck) -> bool:
        """ "stop", "never mind", "start over" - unless the text answers the question ("at rest"
        can look like "start over" to the classifier, "I have to stop" like "stop")."""
        message = tracker.latest_message or {}
        intent = message.get("intent") or {}
        if intent.get("name") not in LEAVING_INTENTS:
            return False
        if float(intent.get("confidence") or 0) < config.LEAVE_CONFIDENCE:
            return False
        requested = tracker.get_slot("requested_slot")
        if requested not in check.slots:
            return True
        answer = read_answer(
            check.question(requested),
            message.get("text") or "",
            skip_words=check.skip_words,
            unsure_words=check.unsure_words,
        )
        return answer is None

    @staticmethod
    def _side_question(message: Dict[str, Any], text: str) -> Optional[str]:
        """The knowledge topic a mid-check message asks about, when NLU is confident."""
        intent = message.get("intent") or {}
        topic = topic_for_intent(intent.get("name"))
        if topic and float(intent.get("confidence") or 0) >= config.SIDE_QUESTION_CONFIDENCE:
            return topic
        return None


def _summary(key: str, **fields: Any) -> str:
    return phrases().text(f"cramp_check.summary.{key}", **fields)


def advised(topic: Topic) -> str:
    """A topic's advice with the section it comes from."""
    return " ".join(knowledge().cited(topic.advice_groups()))


def see_doctor_text(item: SummaryItem) -> Tuple[str, str]:
    """(the text, with its citation or our-rule mark; the bare text, to spot repeats)."""
    if item.sign:
        return wording().reason_text(item.sign), wording().whys[item.sign]
    topic = knowledge()[item.topic]
    if item.use == "answer":
        # a part the summary's closing disclaimer says anyway (the article's caution) is left out
        groups = [
            (section, texts)
            for section, texts in topic.answer_groups()
            if not all(t in knowledge().disclaimer for t in texts)
        ]
        return " ".join(knowledge().cited(groups)), topic.answer
    if item.use == "advice":
        return advised(topic), topic.advice_text
    found = [
        (detail, section)
        for section, details in topic.detail_groups()
        for detail in details
        if item.detail_containing in detail
    ]
    if not found:
        raise KnowledgeError(
            f"cramp check summary: no detail of {topic.id} contains {item.detail_containing!r}"
        )
    text, section = found[0]
    return f"{text} {citation(section)}", text


def summary_text(
    causes: List[str],
    tier: str,
    whys: List[str],
    with_action: bool = True,
    own_rules: Collection[str] = (),
) -> str:
    """The summary; `with_action=False` when this turn's escalation, just above, already said the
    tier's action and why (said once per turn). `own_rules`: signs whose rule of ours is said
    whatever else was found ("do not stop a prescribed medicine on your own", when a medicine is
    suspected). From `urgent` on, nothing weaker than the escalation follows: no causes, no
    self-care, no appointment, only the line that the rest can wait."""
    kb = knowledge()
    summary = cramp_check().summary
    lines: List[str] = []
    if tier != "none" and with_action:
        # what to do comes first, before any self-care
        lines.append(_summary("action", action=wording().actions[tier]))
        lines += [wording().why_line(why) for why in whys[:2]]
    for reason in own_rules:
        rule = wording().own_rule_text(reason)
        if rule and not any(rule in line for line in lines):
            lines.append(rule)
    if tier_rank(tier) >= tier_rank("urgent"):
        lines.append(_summary("urgent_rest_waits"))
        return "\n".join(lines)
    shown = set()
    if causes:
        lines.append(_summary("causes_heading"))
        for rank, cause in enumerate(causes, start=1):
            topics = [kb[t] for t in summary.advice_topics(cause, followup_treatment(cause))]
            shown.update(t.advice_text for t in topics)
            lines.append(
                _summary(
                    "cause_line",
                    rank=rank,
                    title=kb[cause].title,
                    advice=" ".join(advised(t) for t in topics),
                )
            )
    else:
        lines.append(_summary("no_cause", advice=" ".join(advised(kb[t]) for t in summary.general)))
    lines.append(_summary("see_doctor_heading"))
    for item in summary.see_doctor:
        text, bare = see_doctor_text(item)
        if bare not in shown:
            lines.append(_summary("see_doctor_item", text=text))
    lines.append(kb.disclaimer)
    return "\n".join(lines)


class ActionCrampCheckSummary(Action):
    """Ranks the article's causes that fit the answers and says what to do."""

    def name(self) -> Text:
        return "action_cramp_check_summary"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        check = cramp_check()
        if tracker.get_slot(STOPPED_SLOT):
            # the person stopped the check: keep the answers so far for "continue the cramp check"
            dispatcher.utter_message(response="utter_cramp_check_stopped")
            return [SlotSet(STOPPED_SLOT, None)]
        answers = with_story_answers(
            check, {slot: tracker.get_slot(slot) for slot in check.slots}, tracker.events
        )
        facts = facts_from(answers, article_medicines())
        causes = rank_causes(check, facts)
        rules_tier, whys = answers_tier(check, facts)
        told = [sign for m in _session_user_messages(tracker.events) for sign in stated_signs(m)]
        own_rules = [s for s in answer_signs(check, facts) + told if wording().own_rules.get(s)]
        # every message of the check was triaged; the summary keeps the highest tier seen
        tier = max_tier([rules_tier, highest_urgency(tracker.events)])
        if tier_rank(rules_tier) < tier_rank(tier):
            whys = []
        this_message = tracker.get_slot("urgency")  # the last answer's tier (set by the validation)
        if this_message != "emergency":
            said_above = tier != "none" and this_message == tier
            text = summary_text(
                causes, tier, whys, with_action=not said_above, own_rules=dict.fromkeys(own_rules)
            )
            dispatcher.utter_message(
                text=text, json_message={"cramp_check": {"likely_causes": causes, "tier": tier}}
            )
        # else an emergency answer ended the check this turn: its escalation says what to do and
        # why, and nothing (no causes, no self-care) may follow it in the same turn
        # `topic` was already written for this turn by the form's validation
        return [SlotSet("likely_causes", causes), SlotSet("urgency", tier)] + [
            SlotSet(slot, None) for slot in check.slots
        ]
