"""What school orders look like: templates (medication + sig + dose) and the conditions
("bundles") that bring them to the health office together.

A bundle is one reason a student has medications at school: ADHD (a midday stimulant), asthma
(a rescue inhaler), a food allergy (epinephrine, often an antihistamine), type 1 diabetes
(insulin at lunch, glucagon, glucose tablets), ... Each slot of a bundle is filled with the
given probability by one of its templates. Template items are names from
``resources/school_formulary.csv``; sigs are texts from :mod:`medapp.demo.sigs`.
"""

from __future__ import annotations

from dataclasses import dataclass

K, G12 = 0, 12


@dataclass(frozen=True)
class Template:
    item: str  # school_formulary.csv name
    sig: str  # medapp.demo.sigs text
    route: str  # as written on the order
    dose: str | None = None  # default: the CSV's typical dose
    instructions: str | None = None
    weight: float = 1.0
    grades: tuple[int, int] = (K, G12)
    prescriber: str = "general"
    course_days: int | None = None  # short course (antibiotics): the order ends
    per_dose: int | None = 1  # stock units used per dose (None: not counted, e.g. creams)
    insulin: bool = False  # per-dose units drawn from a sliding scale / carb ratio
    supply: int = 30  # units in a typical supply brought to school
    reorder: int = 5
    prn_rate: float = 0.0  # expected as-needed uses per school day
    emergency: str | None = None  # incident kind when used (anaphylaxis, hypoglycemia, seizure)
    side_effects: tuple[str, ...] = ()
    side_effect_rate: float = 0.0


@dataclass(frozen=True)
class Bundle:
    name: str
    weight: float
    slots: tuple[tuple[float, tuple[Template, ...]], ...]
    grades: tuple[int, int] = (K, G12)


T = Template

# fmt: off

_STIMULANT_SE = ("Decreased appetite at lunch", "Mild stomach ache", "Headache after dose")
_MIDDAY = "Give in health office; student may eat lunch first if nauseated."
_CII = "Controlled substance: count on receipt and weekly with a witness."

ADHD = (
    T("Methylphenidate Hydrochloride 10 mg", "1 tab PO daily at 11:30", "PO", weight=10, instructions=_CII, prescriber="adhd", side_effects=_STIMULANT_SE, side_effect_rate=0.002),
    T("Methylphenidate Hydrochloride 5 mg", "1 tab PO daily at noon", "PO", weight=6, instructions=_CII, prescriber="adhd", side_effects=_STIMULANT_SE, side_effect_rate=0.002),
    T("Methylphenidate Hydrochloride 20 mg", "1 tab PO at 08:30 and 12:30", "PO", weight=3, grades=(4, G12), instructions=_CII, prescriber="adhd", side_effects=_STIMULANT_SE, side_effect_rate=0.002, supply=60, reorder=10),
    T("Ritalin 5 mg", "1 tab PO daily at noon", "PO", weight=3, instructions=_CII, prescriber="adhd"),
    T("Ritalin 10 mg", "1 tab PO daily at 11:30", "PO", weight=4, instructions=_CII, prescriber="adhd", side_effects=_STIMULANT_SE, side_effect_rate=0.002),
    T("Ritalin 20 mg", "1 tab PO daily at noon", "PO", weight=1, grades=(6, G12), instructions=_CII, prescriber="adhd"),
    T("Methylin Oral Solution 5 mg/5 mL", "at noon", "PO", weight=2, grades=(K, 3), instructions=_CII, prescriber="adhd", per_dose=5, supply=150, reorder=25),
    T("Methylin Chewable 5 mg", "at noon", "PO", weight=2, grades=(K, 4), instructions=_CII, prescriber="adhd"),
    T("Focalin 2.5 mg", "1 tab PO daily at noon", "PO", weight=2, grades=(K, 5), instructions=_CII, prescriber="adhd"),
    T("Focalin 5 mg", "1 tab PO daily at 12:30 pm", "PO", weight=3, instructions=_CII, prescriber="adhd", side_effects=_STIMULANT_SE, side_effect_rate=0.002),
    T("Adderall 5 mg", "1 tab PO daily at noon", "PO", weight=3, instructions=_CII, prescriber="adhd"),
    T("Adderall 10 mg", "1 tab PO daily at 12:00", "PO", weight=4, instructions=_CII, prescriber="adhd", side_effects=_STIMULANT_SE, side_effect_rate=0.002),
    T("Adderall 20 mg", "1 tab PO daily at 11:30", "PO", weight=1, grades=(7, G12), instructions=_CII, prescriber="adhd"),
    T("Amphetamine Salts 10 mg", "once daily at 12:30 pm", "PO", weight=4, instructions=_CII, prescriber="adhd", side_effects=_STIMULANT_SE, side_effect_rate=0.002),
    T("Zenzedi 5 mg", "daily at 11:30", "PO", weight=1, instructions=_CII, prescriber="adhd"),
    T("Concerta 18 mg", "every morning at school", "PO", weight=2, instructions="Given at school arrival (before-care program). " + _CII, prescriber="adhd"),
    T("Concerta 36 mg", "every morning at school", "PO", weight=1, grades=(6, G12), instructions="Given at school arrival. " + _CII, prescriber="adhd"),
    T("Vyvanse 30 mg", "every morning at school", "PO", weight=1, instructions="Given at school arrival. " + _CII, prescriber="adhd"),
    T("Guanfacine 1 mg", "1 tab PO daily at noon", "PO", weight=3, prescriber="adhd", side_effects=("Drowsy in afternoon class",), side_effect_rate=0.003),
    T("Clonidine Hydrochloride 0.1 mg", "1 tab PO daily at noon", "PO", weight=2, prescriber="adhd", side_effects=("Drowsy in afternoon class",), side_effect_rate=0.003),
)

_INHALER = "Student may self-carry. Notify parent if used more than twice in one day."
ALBUTEROL = (
    T("ProAir HFA", "2 puffs q4h prn wheezing", "Inhaled (with spacer)", instructions=_INHALER, weight=12, per_dose=2, supply=200, reorder=40, prn_rate=0.1, side_effects=("Jittery, heart rate 118",), side_effect_rate=0.01),
    T("Ventolin HFA", "2 puffs q4-6h prn wheezing", "Inhaled (with spacer)", instructions=_INHALER, weight=8, per_dose=2, supply=200, reorder=40, prn_rate=0.1, side_effects=("Shaky hands after treatment",), side_effect_rate=0.01),
    T("Proventil HFA", "2 puffs q4h prn wheezing", "Inhaled", instructions=_INHALER, weight=3, per_dose=2, supply=200, reorder=40, prn_rate=0.08),
    T("Xopenex HFA", "2 puffs q4-6h prn wheezing", "Inhaled (with spacer)", weight=2, per_dose=2, supply=200, reorder=40, prn_rate=0.08),
    T("Albuterol Sulfate Inhalation Solution 0.083%", "1 vial via nebulizer q4h prn wheezing", "Nebulized", instructions="Nebulizer kept in health office.", weight=3, grades=(K, 5), supply=25, reorder=5, prn_rate=0.06),
    T("Levalbuterol Inhalation Solution", "1 vial via nebulizer q4h prn wheezing", "Nebulized", weight=1, grades=(K, 5), supply=24, reorder=5, prn_rate=0.06),
)

_EPI = "Give for anaphylaxis, then call 911 and the parent. Second dose if no improvement in 5-15 minutes."
EPINEPHRINE_SMALL = (
    T("EpiPen Jr", "prn anaphylaxis, max 2 per day", "IM (outer thigh)", instructions=_EPI, weight=6, prescriber="allergy", supply=2, reorder=1, prn_rate=0.0004, emergency="anaphylaxis"),
    T("Auvi-Q 0.15 mg", "prn anaphylaxis, max 2 per day", "IM (outer thigh)", instructions=_EPI, weight=2, prescriber="allergy", supply=2, reorder=1, prn_rate=0.0004, emergency="anaphylaxis"),
    T("Adrenaclick 0.15 mg", "prn anaphylaxis, max 2 per day", "IM (outer thigh)", instructions=_EPI, weight=1, prescriber="allergy", supply=2, reorder=1, prn_rate=0.0004, emergency="anaphylaxis"),
    T("Epinephrine Auto-Injector 0.15 mg (generic)", "prn anaphylaxis, max 2 per day", "IM (outer thigh)", instructions=_EPI, weight=3, prescriber="allergy", supply=2, reorder=1, prn_rate=0.0004, emergency="anaphylaxis"),
)
EPINEPHRINE_ADULT = (
    T("EpiPen", "prn anaphylaxis, max 2 per day", "IM (outer thigh)", instructions=_EPI, weight=6, prescriber="allergy", supply=2, reorder=1, prn_rate=0.0004, emergency="anaphylaxis"),
    T("Auvi-Q 0.3 mg", "prn anaphylaxis, max 2 per day", "IM (outer thigh)", instructions=_EPI, weight=2, prescriber="allergy", supply=2, reorder=1, prn_rate=0.0004, emergency="anaphylaxis"),
    T("Adrenaclick 0.3 mg", "prn anaphylaxis, max 2 per day", "IM (outer thigh)", instructions=_EPI, weight=1, prescriber="allergy", supply=2, reorder=1, prn_rate=0.0004, emergency="anaphylaxis"),
    T("Epinephrine Auto-Injector 0.3 mg (generic)", "prn anaphylaxis, max 2 per day", "IM (outer thigh)", instructions=_EPI, weight=3, prescriber="allergy", supply=2, reorder=1, prn_rate=0.0004, emergency="anaphylaxis"),
)
ANTIHISTAMINE_PRN = (
    T("Diphenhydramine 25 mg", "every 6 hours as needed for hives", "PO", weight=3, grades=(6, G12), supply=24, reorder=6, prn_rate=0.04, side_effects=("Drowsy; rested 20 minutes",), side_effect_rate=0.05),
    T("Children's Diphenhydramine Liquid", "every 6 hours as needed for hives", "PO", dose="12.5 mg (5 mL)", weight=3, grades=(K, 5), per_dose=5, supply=120, reorder=25, prn_rate=0.04),
    T("Benadryl Allergy", "q6h prn itching", "PO", weight=2, grades=(6, G12), supply=24, reorder=6, prn_rate=0.04),
    T("Zyrtec", "daily as needed for allergies", "PO", weight=2, grades=(6, G12), supply=30, reorder=6, prn_rate=0.05),
    T("Children's Cetirizine Oral Solution", "daily as needed for allergies", "PO", weight=2, grades=(K, 5), per_dose=5, supply=120, reorder=25, prn_rate=0.05),
)

_INSULIN = "Check blood glucose before lunch; dose per the diabetes medical management plan on file."
INSULIN = (
    T("Humalog", "inject SC before lunch", "SubQ", instructions=_INSULIN, weight=3, prescriber="diabetes", insulin=True, supply=1000, reorder=150),
    T("NovoLog", "inject SC before lunch", "SubQ", instructions=_INSULIN, weight=3, prescriber="diabetes", insulin=True, supply=1000, reorder=150),
    T("Humalog KwikPen", "inject SC with lunch", "SubQ", instructions="Count carbohydrates of lunch; dose per carb ratio and correction factor in the plan.", weight=3, prescriber="diabetes", insulin=True, supply=300, reorder=60),
    T("NovoLog FlexPen", "inject SC with lunch", "SubQ", instructions="Count carbohydrates of lunch; dose per carb ratio and correction factor in the plan.", weight=3, prescriber="diabetes", insulin=True, supply=300, reorder=60),
    T("Apidra SoloStar", "inject SC before lunch", "SubQ", instructions=_INSULIN, weight=1, prescriber="diabetes", insulin=True, supply=300, reorder=60),
)
GLUCAGON = (
    T("Glucagon Emergency Kit", "prn severe hypoglycemia, max 1 per day", "IM", instructions="If unconscious, seizing or unable to swallow: give, turn on side, call 911.", weight=3, prescriber="diabetes", supply=1, reorder=1, prn_rate=0.0006, emergency="hypoglycemia"),
    T("GlucaGen HypoKit", "prn severe hypoglycemia, max 1 per day", "IM", weight=1, prescriber="diabetes", supply=1, reorder=1, prn_rate=0.0006, emergency="hypoglycemia"),
    T("Baqsimi", "prn severe hypoglycemia, max 1 per day", "Intranasal", instructions="One spray in one nostril; call 911.", weight=3, prescriber="diabetes", supply=2, reorder=1, prn_rate=0.0006, emergency="hypoglycemia"),
    T("Gvoke HypoPen", "prn severe hypoglycemia, max 1 per day", "SubQ", weight=1, prescriber="diabetes", supply=2, reorder=1, prn_rate=0.0006, emergency="hypoglycemia"),
)
GLUCOSE = (
    T("Glucose Tablets 4 g", "prn low blood sugar, max 3 per day", "PO", instructions="Blood glucose under 70: give, recheck in 15 minutes, repeat if still under 70.", weight=3, per_dose=4, supply=50, reorder=12, prn_rate=0.2),
    T("Glucose Gel 15 g", "prn low blood sugar, max 3 per day", "Buccal", weight=1, supply=6, reorder=2, prn_rate=0.12),
)

_SEIZURE = "Give for a seizure lasting 5 minutes or longer, or clusters per the seizure action plan; call 911."
SEIZURE_RESCUE = (
    T("Diastat AcuDial 10 mg", "prn seizure, max 1 per day", "Rectal", instructions=_SEIZURE, weight=3, prescriber="seizure", supply=2, reorder=1, prn_rate=0.0015, emergency="seizure"),
    T("Diastat Pediatric 2.5 mg", "prn seizure, max 1 per day", "Rectal", instructions=_SEIZURE, weight=1, grades=(K, 2), prescriber="seizure", supply=2, reorder=1, prn_rate=0.0015, emergency="seizure"),
    T("Diazepam Rectal Gel 10 mg", "prn seizure, max 1 per day", "Rectal", instructions=_SEIZURE, weight=1, prescriber="seizure", supply=2, reorder=1, prn_rate=0.0015, emergency="seizure"),
    T("Nayzilam", "prn seizure, max 2 per day", "Intranasal", instructions=_SEIZURE, weight=2, grades=(7, G12), prescriber="seizure", supply=2, reorder=1, prn_rate=0.0015, emergency="seizure"),
    T("Valtoco 10 mg", "prn seizure, max 2 per day", "Intranasal", instructions=_SEIZURE, weight=2, grades=(1, G12), prescriber="seizure", supply=2, reorder=1, prn_rate=0.0015, emergency="seizure"),
)
ENZYMES = (
    T("Creon 6,000", "daily with lunch", "PO", instructions="Give with the first bites of lunch; do not crush.", weight=2, per_dose=2, supply=100, reorder=20),
    T("Creon 12,000", "daily with lunch", "PO", instructions="Give with the first bites of lunch; do not crush.", weight=1, grades=(6, G12), per_dose=2, supply=100, reorder=20),
    T("Zenpep 5,000", "with lunch", "PO", weight=1, supply=100, reorder=20),
)
LACTASE = (
    T("Lactaid Fast Act", "1 cap PO with lunch", "PO", weight=3, supply=32, reorder=6),
    T("Lactase Enzyme Chewable", "with lunch", "PO", weight=2, per_dose=2, supply=60, reorder=10),
)
_COURSE = "Short course; the lunch-time dose is given at school, the others at home."
ANTIBIOTIC = (
    T("Amoxicillin Oral Suspension 250 mg/5 mL", "tid with meals", "PO", instructions=_COURSE + " Shake well; refrigerate.", weight=4, grades=(K, 5), course_days=10, per_dose=5, supply=100, reorder=10, side_effects=("Hives on trunk 30 minutes after dose",), side_effect_rate=0.01),
    T("Amoxicillin 500 mg", "1 cap PO tid with meals", "PO", instructions=_COURSE, weight=3, grades=(6, G12), course_days=10, supply=30, reorder=3, side_effects=("Hives on arms after dose",), side_effect_rate=0.01),
    T("Augmentin 250 mg/5 mL", "tid with meals", "PO", instructions=_COURSE + " Give with food.", weight=1, grades=(K, 5), course_days=10, per_dose=5, supply=75, reorder=10, side_effects=("Stomach upset after dose",), side_effect_rate=0.02),
    T("Cephalexin Oral Suspension 250 mg/5 mL", "qid", "PO", instructions=_COURSE, weight=1, grades=(K, 5), course_days=7, per_dose=5, supply=100, reorder=10),
    T("Keflex 500 mg", "1 cap PO qid", "PO", instructions=_COURSE, weight=1, grades=(6, G12), course_days=7, supply=28, reorder=4),
    T("Penicillin V Potassium 250 mg", "1 tab PO tid with meals", "PO", instructions=_COURSE, weight=1, course_days=10, supply=30, reorder=3),
    T("Clindamycin 150 mg", "tid with meals", "PO", instructions=_COURSE + " Give with a full glass of water.", weight=1, grades=(6, G12), course_days=7, supply=21, reorder=3),
    T("Zithromax 250 mg", "1 tab PO daily at noon", "PO", instructions=_COURSE, weight=1, grades=(6, G12), course_days=5, supply=6, reorder=1),
)
OTHER_SCHEDULED = (
    T("Bactrim DS", "Mon/Wed/Fri at 10:00", "PO", instructions="Prophylaxis; give with water.", weight=1, grades=(6, G12), supply=12, reorder=3),
    T("Ferrous Sulfate 325 mg", "Mon/Wed/Fri at 10:00", "PO", instructions="Give with juice, not milk.", weight=2, grades=(4, G12), supply=30, reorder=6),
    T("Children's Multivitamin with Iron", "every other day at noon", "PO", weight=1, grades=(K, 5), supply=60, reorder=10),
    T("Vitamin D3 1000 IU", "1 tab PO every other day at noon", "PO", weight=1, supply=60, reorder=10),
    T("Oxybutynin Chloride 5 mg", "1 tab PO daily at noon", "PO", instructions="Neurogenic bladder; catheterization schedule in care plan.", weight=2, supply=30, reorder=6),
    T("Glycopyrrolate 1 mg", "1 tab PO daily at 11:30", "PO", instructions="For drooling; give 1 hour before lunch.", weight=1, supply=30, reorder=6),
    T("Famotidine 20 mg", "1 tab PO daily at noon", "PO", weight=1, grades=(6, G12), supply=30, reorder=6),
    T("Cetirizine 10 mg", "1 tab PO daily at noon", "PO", weight=2, grades=(4, G12), supply=30, reorder=6),
    T("Risperidone 0.5 mg", "1/2 tab PO daily at noon", "PO", dose="0.25 mg (1/2 tab)", weight=1, grades=(3, G12), prescriber="psych", supply=30, reorder=6),
    T("Cortef 5 mg", "1 tab PO daily at noon", "PO", instructions="Adrenal insufficiency: stress-dose plan on file.", weight=1, supply=30, reorder=6),
    T("Potassium Chloride 10 mEq", "1 tab PO with lunch", "PO", weight=1, grades=(6, G12), supply=30, reorder=6),
    T("Sertraline 50 mg", "1 tab PO daily at school", "PO", instructions="Directly observed at school per care plan.", weight=1, grades=(6, G12), prescriber="psych", supply=30, reorder=6),
    T("Escitalopram 5 mg", "qd at school", "PO", instructions="Directly observed at school per care plan.", weight=1, grades=(6, G12), prescriber="psych", supply=30, reorder=6),
    T("Fluoxetine 20 mg", "once daily at school", "PO", instructions="Directly observed at school per care plan.", weight=1, grades=(7, G12), prescriber="psych", supply=30, reorder=6),
)
PAIN_PRN = (
    T("Acetaminophen 325 mg", "q4-6h prn fever or pain", "PO", dose="650 mg (2 tabs)", weight=3, grades=(6, G12), per_dose=2, supply=100, reorder=20, prn_rate=0.05),
    T("Tylenol Regular Strength", "every 4 hours as needed", "PO", weight=2, grades=(4, G12), supply=100, reorder=20, prn_rate=0.05),
    T("Children's Acetaminophen Oral Suspension", "q4-6h prn fever or pain", "PO", weight=2, grades=(K, 5), per_dose=8, supply=120, reorder=30, prn_rate=0.05),
    T("Children's Acetaminophen Chewable", "q4h prn", "PO", dose="320 mg (2 tabs)", weight=2, grades=(K, 5), per_dose=2, supply=24, reorder=6, prn_rate=0.05),
    T("Ibuprofen 200 mg", "1 tab PO q6h prn pain, max 2 per day", "PO", dose="200 mg", weight=3, grades=(6, G12), supply=100, reorder=20, prn_rate=0.05),
    T("Advil", "q6h prn headache", "PO", weight=2, grades=(6, G12), supply=50, reorder=10, prn_rate=0.05),
    T("Children's Ibuprofen Oral Suspension", "every 6 hours as needed for pain", "PO", weight=2, grades=(K, 5), per_dose=10, supply=120, reorder=30, prn_rate=0.05),
    T("Ibuprofen 400 mg", "q6h prn headache", "PO", instructions="Migraine plan: give with food at first sign of headache.", weight=1, grades=(7, G12), supply=30, reorder=6, prn_rate=0.06),
    T("Naproxen 250 mg", "q8h prn pain", "PO", instructions="Menstrual cramps; give with food.", weight=1, grades=(7, G12), supply=20, reorder=4, prn_rate=0.05),
)
GI_PRN = (
    T("Zofran ODT 4 mg", "every 8 hours as needed for nausea", "PO (dissolve on tongue)", weight=2, grades=(4, G12), supply=10, reorder=2, prn_rate=0.04),
    T("Ondansetron ODT 4 mg", "q8h prn nausea", "PO (dissolve on tongue)", weight=2, supply=10, reorder=2, prn_rate=0.04),
    T("Ondansetron Oral Solution", "q8h prn nausea", "PO", weight=1, grades=(K, 3), per_dose=3, supply=50, reorder=10, prn_rate=0.04),
    T("Pepcid AC", "daily as needed for heartburn", "PO", weight=1, grades=(7, G12), supply=30, reorder=6, prn_rate=0.04),
    T("Tums", "q4h prn", "PO (chew)", weight=1, grades=(4, G12), supply=48, reorder=10, prn_rate=0.04),
)
SKIN_PRN = (
    T("Hydrocortisone Cream 1%", "bid prn rash", "Topical", weight=2, per_dose=None, supply=1, reorder=0, prn_rate=0.05),
    T("Hydrocortisone Cream 2.5%", "bid prn rash", "Topical", instructions="Eczema flares; thin layer to affected areas only.", weight=1, per_dose=None, supply=1, reorder=0, prn_rate=0.05),
    T("Aquaphor Healing Ointment", "bid prn rash", "Topical", weight=1, per_dose=None, supply=1, reorder=0, prn_rate=0.05),
    T("Sting Relief Wipes", "prn insect sting, max 3 per day", "Topical", weight=1, supply=10, reorder=2, prn_rate=0.005),
)
ANXIETY_PRN = (
    T("Ativan 0.5 mg", "q8h prn anxiety, max 1 per day", "PO", instructions="For panic symptoms per behavioral plan; notify counselor. Controlled substance.", weight=1, grades=(7, G12), prescriber="psych", supply=10, reorder=2, prn_rate=0.01),
)

BUNDLES: tuple[Bundle, ...] = (
    Bundle("adhd", 26, ((1.0, ADHD),), grades=(1, G12)),
    Bundle("asthma", 20, ((1.0, ALBUTEROL),)),
    Bundle("food allergy (young)", 5, ((1.0, EPINEPHRINE_SMALL), (0.6, ANTIHISTAMINE_PRN), (0.2, ALBUTEROL)), grades=(K, 3)),
    Bundle("food allergy", 5, ((1.0, EPINEPHRINE_ADULT), (0.5, ANTIHISTAMINE_PRN), (0.2, ALBUTEROL)), grades=(4, G12)),
    Bundle("type 1 diabetes", 4, ((1.0, INSULIN), (1.0, GLUCAGON), (0.8, GLUCOSE))),
    Bundle("seizures", 2, ((1.0, SEIZURE_RESCUE),)),
    Bundle("cystic fibrosis", 0.8, ((1.0, ENZYMES),)),
    Bundle("lactose intolerance", 3, ((1.0, LACTASE),)),
    Bundle("infection (short course)", 2.5, ((1.0, ANTIBIOTIC),)),
    Bundle("daily medication at school", 7, ((1.0, OTHER_SCHEDULED),)),
    Bundle("pain / fever (parent OTC order)", 8, ((1.0, PAIN_PRN),)),
    Bundle("allergies (seasonal)", 3, ((1.0, ANTIHISTAMINE_PRN),)),
    Bundle("nausea / stomach", 2, ((1.0, GI_PRN),)),
    Bundle("eczema / skin", 2, ((1.0, SKIN_PRN),)),
    Bundle("anxiety", 0.6, ((1.0, ANXIETY_PRN),), grades=(7, G12)),
)

# Office stock (standing orders): item, supply, reorder level, units per use.
STOCK: tuple[tuple[str, int, int, int | None], ...] = (
    ("Acetaminophen 325 mg", 100, 20, 2),
    ("Children's Acetaminophen Oral Suspension", 120, 30, 8),
    ("Ibuprofen 200 mg", 100, 20, 1),
    ("Children's Ibuprofen Oral Suspension", 120, 30, 10),
    ("Diphenhydramine 25 mg", 24, 6, 1),
    ("Children's Diphenhydramine Liquid", 120, 25, 5),
    ("Cetirizine 10 mg", 30, 6, 1),
    ("Hydrocortisone Cream 1%", 3, 1, None),
    ("Bacitracin Zinc Ointment", 3, 1, None),
    ("Glucose Tablets 4 g", 50, 12, 4),
    ("Tums", 96, 20, 1),
    ("Epinephrine Auto-Injector 0.3 mg (generic)", 2, 1, 1),
    ("Epinephrine Auto-Injector 0.15 mg (generic)", 2, 1, 1),
    ("ProAir HFA", 200, 40, 2),
    ("Narcan Nasal Spray", 2, 1, 1),
    ("Calamine Lotion", 2, 1, None),
    ("Cough Drops (menthol)", 100, 20, 1),
)
# fmt: on

ALL_TEMPLATES: tuple[Template, ...] = tuple(
    dict.fromkeys(t for b in BUNDLES for _, choices in b.slots for t in choices)
)
