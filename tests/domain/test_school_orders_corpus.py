"""Real-world school orders, as parents' forms and prescriber labels write them, with the doses
the nurse gives at school (issue 9, rules 1-3) — or the refusal, when the order cannot be read
safely.

Each row: the order text, the product names on the order (or none), and the expected result:
the school-local clock times of the school doses, ``PRN`` (as needed: no scheduled dose), or
``refused("fragment")`` (a FrequencyError whose message holds the fragment). The school is the
test calendar: 08:00-15:00, lunch 12:00, dose window ±60 minutes; the day is a Wednesday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from medapp.domain.frequency import FrequencyError, parse_frequency
from medapp.domain.schedule import PlanFlagCode, Prescription, doses_due_at_school
from medapp.domain.school import SchoolCalendar

WED = date(2024, 10, 16)
PRN = "PRN"
HOME: tuple[str, ...] = ()


@dataclass(frozen=True)
class refused:  # noqa: N801 - reads as a value in the table
    fragment: str


Expected = tuple[str, ...] | str | refused

# fmt: off
CORPUS: list[tuple[str, tuple[str, ...], Expected]] = [
    # --- ADHD stimulants and other midday school medications -------------------------------
    ("Methylphenidate 10 mg tab: take 1 tablet by mouth at noon", (), ("12:00",)),
    ("Ritalin 5 mg 1 tab po daily at 12:00", (), ("12:00",)),
    ("Adderall 5 mg po at 12:15", (), ("12:15",)),
    ("Adderall 10 mg, 1 tab by mouth at lunch", (), ("12:00",)),
    ("Focalin 2.5 mg po with lunch", (), ("12:00",)),
    ("methylphenidate 5 mg 1 tab at 11:30 am on school days", (), ("11:30",)),
    ("Ritalin 10 mg 1 tab at 8 am and 12 noon", (), ("08:00", "12:00")),
    ("methylphenidate 10 mg take 1 tablet twice daily at 7 am and 12 pm", (), ("12:00",)),
    ("dextroamphetamine 5 mg 1 tab at 11:45 and 1 pm", (), ("11:45", "13:00")),
    ("clonidine 0.1 mg 1 tab po at noon", (), ("12:00",)),
    ("methylphenidate ER 18 mg every morning", (), HOME),
    ("Concerta 36 mg po qam", (), HOME),
    ("Adderall XR 20 mg daily", ("Adderall XR 20 mg",), HOME),
    ("Vyvanse 30 mg 1 cap every morning before school", (), refused("given at home")),
    ("Guanfacine 1 mg 1 tab at bedtime", (), HOME),
    ("Intuniv 2 mg once a day", (), HOME),
    ("Strattera 25 mg 1 cap b.i.d.", (), HOME),
    # --- asthma ---------------------------------------------------------------------------------
    ("albuterol HFA 90 mcg 2 puffs q4h prn wheezing", (), PRN),
    ("ProAir HFA 2 puffs every 4 hours as needed for shortness of breath", ("ProAir HFA",), PRN),
    ("Xopenex HFA 1-2 puffs q4-6h prn cough or wheeze", ("Xopenex HFA",), PRN),
    ("albuterol 2.5 mg/3 mL neb q4h prn", (), PRN),
    ("Ventolin 2 puffs 15 minutes before PE", (), refused("not understood")),
    ("Albuterol neb 2.5 mg every 4 hours", (), ("12:00",)),
    ("albuterol 2 puffs q6h", (), ("12:00",)),
    ("Flovent 44 mcg 2 puffs bid", (), HOME),
    ("Symbicort 80/4.5 2 puffs twice daily", ("Symbicort 80/4.5",), HOME),
    ("Qvar 40 mcg 2 puffs in the morning and evening", (), HOME),
    ("montelukast 5 mg chew 1 tab at bedtime", (), HOME),
    # --- diabetes -------------------------------------------------------------------------------
    ("Humalog per sliding scale before lunch", (), refused("not understood")),
    ("NovoLog per carb ratio with lunch", (), refused("not understood")),
    ("insulin lispro 1 unit per 15 g carbohydrate at lunch", (), refused("not understood")),
    ("Humalog 2 units subq before lunch if BG > 150", (), refused("Conditional")),
    ("NovoLog 3 units SC with lunch", (), ("12:00",)),
    ("Humalog KwikPen 4 units subcut at 11:40", ("Humalog KwikPen",), ("11:40",)),
    ("Lantus 10 units at bedtime", (), HOME),
    ("insulin glargine 12 units every morning", (), HOME),
    ("Levemir 8 units qam", (), HOME),
    ("insulin aspart 2 units with breakfast", (), HOME),
    ("glucagon 1 mg IM prn severe hypoglycemia", (), PRN),
    ("Baqsimi 3 mg intranasal prn severe low blood sugar, max 1 dose/day", (), PRN),
    ("glucose tabs 4 tabs prn BG < 70", (), refused("Conditional")),
    # --- seizures -------------------------------------------------------------------------------
    ("Diastat 10 mg rectally prn seizure > 5 min", (), PRN),
    ("diazepam rectal gel 10 mg pr prn seizure lasting 5 minutes or longer", (), PRN),
    ("midazolam 5 mg intranasal prn seizure > 5 minutes, max 1 dose per day", (), PRN),
    ("Nayzilam 5 mg 1 spray in one nostril prn seizure lasting longer than 5 minutes", (), PRN),
    ("Valtoco 10 mg nasal prn cluster seizures, may repeat in 4 hours", (), refused("repeat")),
    ("Diastat 2.5 mg pr for seizure > 5 min", (), refused("as-needed")),
    ("Keppra 250 mg bid", (), HOME),
    ("levetiracetam 500 mg 1 tab at 7 am and 7 pm", (), HOME),
    ("Keppra oral solution 100 mg/mL 2.5 mL twice daily at school", (), refused("which one")),
    # --- antibiotics ----------------------------------------------------------------------------
    ("amoxicillin 250 mg/5 mL 5 mL tid x 10 days", (), HOME),
    ("amoxicillin 500 mg 1 cap po three times daily", (), HOME),
    ("Amoxicillin 400 mg/5 mL 5 mL po bid", (), HOME),
    ("cephalexin 250 mg/5 mL 5 mL q6h x 7 days", (), ("12:00",)),
    ("Keflex 500 mg 1 cap qid", (), ("12:00",)),
    ("penicillin VK 250 mg 1 tab 4 times a day", (), ("12:00",)),
    ("Augmentin 250 mg/5 mL 5 mL every 8 hours", (), HOME),
    ("azithromycin 200 mg/5 mL 5 mL daily x 5 days", (), HOME),
    ("Bactrim DS 1 tab every 12 hours", ("Bactrim DS",), HOME),
    ("clindamycin 150 mg q6h", (), ("12:00",)),
    ("cefdinir 300 mg 1 cap po q12h", (), HOME),
    ("amoxicillin 250 mg tid, give midday dose at school", (), refused("different schedules")),
    ("amoxicillin 875 mg 1 tab with breakfast and dinner", (), HOME),
    # --- OTC and comfort ------------------------------------------------------------------------
    ("ibuprofen 200 mg 2 tabs q6h prn pain, max 4 doses/day", (), PRN),
    (
        "acetaminophen 325 mg 2 tabs every 4-6 hours as needed for fever, not to exceed 5 doses "
        "in 24 hours",
        (),
        PRN,
    ),
    ("naproxen 220 mg q8h prn cramps, max 2 doses/day", (), PRN),
    ("Tylenol 160 mg/5 mL 10 mL q4h prn", (), PRN),
    ("cetirizine 10 mg daily prn allergies", (), PRN),
    ("Benadryl 25 mg q6h prn hives", (), PRN),
    ("Tums 1 tab chewed prn heartburn, max 3 per day", ("Tums",), PRN),
    ("Motrin 100 mg/5 mL 10 mL every 6 hours as needed, max 4 doses per day", (), PRN),
    ("ibuprofen 400 mg q6h", (), ("12:00",)),
    ("Tylenol PM 1 tab at bedtime", ("Tylenol PM",), HOME),
    ("Tylenol PM 1 tab at bedtime", (), refused("not understood")),
    ("loratadine 10 mg once daily", (), HOME),
    ("ondansetron 4 mg ODT q8h prn nausea", (), PRN),
    ("Zofran 4 mg every 8 hours", (), HOME),
    # --- counts (rule 2) ------------------------------------------------------------------------
    ("take 3 daily", (), refused("ambiguous")),
    ("take 2 daily", (), refused("ambiguous")),
    ("take 1-2 per day", (), refused("ambiguous")),
    ("take 1 cap 3 daily", (), HOME),
    ("3 per day", (), HOME),
    ("2/day", (), HOME),
    ("1 tab 4 per day", (), ("12:00",)),
    ("2 doses per day", (), HOME),
    ("4 times a day with meals and at bedtime", (), ("12:00",)),
    # --- daily medications at school and meal wordings --------------------------------------
    ("Creon 6,000 2 caps with lunch", ("Creon 6,000",), ("12:00",)),
    ("Lactaid 1 cap with lunch", (), ("12:00",)),
    ("oxybutynin 5 mg 1 tab at 11:45 and 1 pm", (), ("11:45", "13:00")),
    ("sertraline 50 mg daily", (), HOME),
    ("levothyroxine 50 mcg every morning on an empty stomach", (), HOME),
    ("Cortef 5 mg 1 tab at noon", (), ("12:00",)),
    ("hydrocortisone 2.5 mg three times daily", (), HOME),
    ("Miralax 17 g daily at school", (), ("09:00",)),
    ("glycopyrrolate 1 mg twice daily at school", (), refused("which one")),
    ("desmopressin 0.2 mg at bedtime", (), HOME),
    ("ferrous sulfate 325 mg M/W/F at 10:00", (), ("10:00",)),
    ("vitamin D 1000 IU every other day", (), HOME),
    ("lactase 2 tabs before meals", (), ("12:00",)),
    ("pancrelipase 1 cap ac", (), ("12:00",)),
    ("famotidine 20 mg pc", (), ("12:00",)),
    ("fluoxetine 20 mg with breakfast", (), HOME),
    ("risperidone 0.25 mg in the evening", (), HOME),
]
# fmt: on


def _plan(text: str, names: tuple[str, ...], calendar: SchoolCalendar):  # noqa: ANN202
    rx = Prescription(
        id="rx",
        frequency=text,
        start_date=WED - timedelta(days=14),
        medication_name=names[0] if names else "",
        generic_name=names[1] if len(names) > 1 else "",
    )
    return doses_due_at_school(rx, calendar, WED)


def test_the_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 60
    assert len({(text, names) for text, names, _ in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize(("text", "names", "expected"), CORPUS, ids=[r[0][:60] for r in CORPUS])
def test_school_order(
    text: str, names: tuple[str, ...], expected: Expected, calendar: SchoolCalendar
) -> None:
    plan = _plan(text, names, calendar)
    if isinstance(expected, refused):
        with pytest.raises(FrequencyError) as info:
            parse_frequency(text, names=names)
        assert expected.fragment.casefold() in str(info.value).casefold()
        assert plan.doses == () and plan.has(PlanFlagCode.FREQUENCY_INVALID)
        return
    assert not plan.has(PlanFlagCode.FREQUENCY_INVALID), plan.flags
    if expected == PRN:
        assert plan.frequency is not None and plan.frequency.prn
        assert plan.doses == () and plan.has(PlanFlagCode.PRN_ONLY)
        return
    assert isinstance(expected, tuple)
    got = tuple(d.scheduled_for.strftime("%H:%M") for d in plan.doses)
    assert got == expected, plan.flags
    if not expected:
        # A home order says why nothing is on the school list.
        assert plan.codes & {PlanFlagCode.HOME_DOSES_ONLY, PlanFlagCode.NO_DOSES_IN_SCHOOL_HOURS}
