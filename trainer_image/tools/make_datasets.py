"""Write the bundled sample datasets for the five foundation domains (deterministic).

    python trainer_image/tools/make_datasets.py [--output trainer_image/tara_trainer/data] [--seed 2026]

Every line is a chat example composed from fragments written for this project:

- a domain topic: two to four phrasings of one user question and a practical one or two sentence
  answer, tagged with a mood: ``info`` (a plain question), ``problem`` (something is wrong),
  ``win`` (good news), ``crisis`` (self-harm: always points to crisis lines), or one of Plutchik's
  eight emotions when the question carries its own feeling ("I'm terrified about my biopsy
  results") and the answer already acknowledges it;
- for ``info``/``problem``/``win`` topics, an emotional framing that fits the mood (Plutchik's eight
  emotions at low and high intensity, or none): a domain-specific opening sentence on the user
  side, written for the asker (a patient or a carer, a student, a teacher or a parent) and an
  acknowledgement that opens the answer;
- an optional domain closing sentence, an optional system prompt (about half the rows) and, on
  about 15% of rows, a second user/assistant exchange chosen to fit the mood.

Every phrasing is used at least once; the remaining rows reuse phrasings with a different framing.
Seeded and free of any ordering that depends on the interpreter, so the output is byte-for-byte
reproducible; tests/trainer/test_bundled_datasets.py regenerates the files and compares them.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

ROWS = 270
DEFAULT_SEED = 2026
DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "tara_trainer" / "data"

EMOTIONS = ("joy", "sadness", "anger", "fear", "surprise", "disgust", "trust", "anticipation")
FRAMED_MOODS = ("info", "problem", "win")
MOODS = (*FRAMED_MOODS, "crisis", *EMOTIONS)

# Which (emotion, intensity) framings suit each mood; "neutral" means no framing at all.
COMPAT: dict[str, list[tuple[str, str]]] = {
    "info": [("neutral", ""), ("neutral", ""), ("joy", "low"), ("joy", "high"), ("trust", "low"), ("trust", "high"),
             ("anticipation", "low"), ("anticipation", "high"), ("fear", "low"), ("sadness", "low"), ("anger", "low"),
             ("disgust", "low")],
    "problem": [("neutral", ""), ("sadness", "low"), ("sadness", "high"), ("anger", "low"), ("anger", "high"),
                ("fear", "low"), ("fear", "high"), ("surprise", "low"), ("surprise", "high"), ("disgust", "low"),
                ("disgust", "high"), ("trust", "high")],
    "win": [("neutral", ""), ("joy", "low"), ("joy", "high"), ("surprise", "low"), ("surprise", "high"),
            ("anticipation", "high"), ("trust", "low")],
}

# Good news needs its own openers: "I'm terrified" does not go with "We signed our largest contract!".
WIN_OPENERS = """
joy.low: Some good news today. | I'm smiling as I type this.
joy.high: I have to tell someone! | Best news ever!
surprise.low: This was a pleasant surprise. | I didn't expect this so soon.
surprise.high: I still can't believe it! | Wow, I did not see this coming!
anticipation.high: I've been waiting for this moment for so long! | I've been counting down to this for months!
trust.low: I wanted to share this with you first. | You helped me get here, so I'm telling you.
"""

# Acknowledgements that open an answer, shared by all domains (each domain adds its own).
ACKS = """
neutral: Happy to explain. | Here is a practical answer.
joy.low: Glad to hear things are going well. | Nice to hear you're in high spirits.
joy.high: That's wonderful to hear! | I love that energy!
sadness.low: I'm sorry it's been a discouraging stretch. | That sounds disheartening.
sadness.high: I'm really sorry you're going through this, and you don't have to face it alone. | That sounds incredibly hard, and it makes sense that you're hurting.
anger.low: That frustration makes sense. | It's understandable to be annoyed.
anger.high: Your anger is understandable, so focus first on what you can change. | That sounds infuriating; take it one step at a time.
fear.low: A little nervousness is normal here. | It's reasonable to feel unsure.
fear.high: That sounds frightening, so slow down and look at it calmly. | Being scared is understandable, and there are clear things you can do right now.
surprise.low: That surprises a lot of people. | It's a common surprise.
surprise.high: That's a lot to take in, so here is how to make sense of it. | That must have been a real shock.
disgust.low: That reaction is understandable. | It's fair to feel put off by it.
disgust.high: That sounds genuinely awful to deal with. | Your reaction is understandable, and there is a better path.
trust.low: Happy to help. | Glad you asked.
trust.high: Thank you for the trust; here is my honest view. | I appreciate that, and I'll be straight with you.
anticipation.low: Planning ahead is a smart move. | Smart to get ready early.
anticipation.high: That enthusiasm will help, so channel it. | Great timing to prepare.
"""

# ---------------------------------------------------------------------------------------------
# healthcare
# ---------------------------------------------------------------------------------------------

HEALTHCARE_OPENERS = """
neutral: I have a health question. | Quick question about my health.
joy.low: I've been feeling pretty good about my health lately. | My last checkup went fine, so I'm in a good mood.
joy.high: I'm in such a great mood now that my energy is finally back! | I feel amazing since I started looking after my health!
sadness.low: I've been feeling a bit down about my health. | It's been a discouraging week with my body.
sadness.high: I feel completely defeated by this and I can't stop crying. | I'm heartbroken and worn out from feeling unwell all the time.
anger.low: I'm a little annoyed that this keeps happening. | It's irritating that nobody has given me a straight answer.
anger.high: I'm so angry, I've dealt with this for weeks and nothing helps! | I'm furious that this is still a problem after two clinic visits.
fear.low: I'm a bit nervous about this. | I'm slightly worried about my health.
fear.high: I'm terrified something is seriously wrong with me. | I'm really scared and I can't stop panicking about this.
surprise.low: This caught me off guard. | I didn't expect this at my age.
surprise.high: I'm completely shocked, this came out of nowhere! | I can't believe this is happening, I felt fine a month ago!
disgust.low: Honestly, I'm a bit grossed out by this. | I'm sick and tired of dealing with this.
disgust.high: I'm disgusted with myself for letting my health slide this far. | This is revolting and I hate dealing with it.
trust.low: A friend said you give clear health information. | I think you can help me understand this.
trust.high: I trust your advice, so I'm asking you before I panic. | You've always given me sensible health tips, so I'm asking you first.
anticipation.low: I'm trying to get ahead of this before my next appointment. | I want to plan ahead for my health this year.
anticipation.high: I'm starting a fresh health routine tomorrow and I can't wait! | I'm eager to finally get my health sorted out.
neutral@carer: I'm asking for a family member. | I look after a relative and have a question.
joy.low@carer: My family is doing pretty well lately. | Things are calm at home for once.
joy.high@carer: I'm in a great mood, we finally have a good routine at home! | I feel so grateful that my family is doing better!
sadness.low@carer: I'm a bit down about how my loved one is doing. | It's been a hard week caring for my family.
sadness.high@carer: I'm heartbroken watching someone I love go through this. | I feel so helpless and I can't stop crying about my family.
anger.low@carer: I'm a little frustrated that this keeps happening at home. | It's annoying that nobody has given our family clear advice.
anger.high@carer: I'm furious that we've had to deal with this alone! | I'm so angry, we've asked for help and nobody listens!
fear.low@carer: I'm a bit nervous about my family member. | I'm slightly worried about someone I care for.
fear.high@carer: I'm terrified something is seriously wrong with someone I love. | I'm really scared and I don't know how to help my family.
surprise.low@carer: This caught our family off guard. | I didn't expect this to happen at home.
surprise.high@carer: I'm shocked, this came on so suddenly! | I can't believe how fast things changed at home!
disgust.low@carer: I'm a bit fed up with how this has been handled. | Honestly, I'm sick of the runaround we're getting.
disgust.high@carer: I'm disgusted by how little help our family has received. | The way we've been brushed off makes me sick.
trust.low@carer: A friend said you give clear health information. | I think you can help me look after my family.
trust.high@carer: I trust your advice, so I'm asking before I panic. | You've helped me care for my family before, so I'm asking you first.
anticipation.low@carer: I want to plan ahead for my family's health. | I'm getting ready for a family doctor's appointment.
anticipation.high@carer: I'm eager to get a good care plan in place for my family! | I can't wait to get our home routines sorted out.
"""

HEALTHCARE_ACKS = """
fear.high: Health worries can feel overwhelming, so focus on clear, safe next steps.
sadness.high: Feeling unwell for a long time wears anyone down, and your feelings are valid.
fear.high@carer: Worrying about someone you love is exhausting, so focus on clear, safe next steps.
anger.high: Feeling dismissed about your health is maddening, and you deserve a clear plan.
trust.high: Thank you for asking; I can't diagnose, but I can help you decide on safe next steps.
"""

HEALTHCARE_TOPICS = """
[info] How much water should I drink each day? | Am I drinking enough water? | Is the eight glasses of water a day rule real?
> Most adults need roughly two to three liters of fluid a day from drinks and food, more in hot weather or during exercise. Pale yellow urine is a simple sign that you are drinking enough.

[problem] I keep forgetting to take my blood pressure pills. | How can I remember to take my medication every day? | What tricks help with taking pills on schedule?
> Take your medication at the same time every day and link it to a fixed habit such as brushing your teeth. A weekly pill organizer and a phone alarm help a lot, and your pharmacist can tell you what to do if you miss a dose.

[problem] I missed a dose of my medication, what now? | I forgot my pill this morning, should I take two tonight? | What should I do if I skip a dose of my prescription?
> Do not double up unless the medication leaflet or your pharmacist says so. Many medicines can be taken when you remember unless the next dose is close, but the rule differs by drug, so check the leaflet or call your pharmacist.

[problem] I can't fall asleep at night. | I lie awake for hours before I finally drift off. | What can I do about trouble falling asleep?
> Keep the same bedtime and wake time every day, avoid caffeine after midday and put screens away an hour before bed. If insomnia lasts more than a few weeks or affects your days, talk to your doctor.

[problem] I keep waking up in the middle of the night. | Why do I wake up at night and stay awake? | My sleep is broken up every single night.
> If you are awake for more than about twenty minutes, get up and do something calm in dim light until you feel sleepy again. Limit alcohol and late drinks, and see a doctor if you also snore loudly, gasp at night or feel exhausted during the day.

[info] How much sleep do adults really need? | Is six hours of sleep enough? | How many hours should I sleep each night?
> Most adults need seven to nine hours of sleep a night. Regularly getting less raises the risk of low mood, weaker immunity and accidents, so protect a consistent sleep window.

[info] What should a healthy plate look like? | How do I eat a balanced diet? | What does good nutrition look like day to day?
> A simple guide is half the plate vegetables and fruit, a quarter whole grains and a quarter protein such as beans, fish, eggs or chicken. Drink water instead of sugary drinks and keep ultra-processed snacks occasional.

[problem] I'm always tired after lunch. | Why do I crash every afternoon? | I have no energy by mid afternoon.
> Large meals heavy in refined carbohydrates can cause an afternoon slump, so try a lighter lunch with protein, fiber and vegetables plus a short walk. If fatigue is constant or comes with weight loss or breathlessness, ask your doctor about blood tests.

[problem] I have a headache that won't go away. | My headache has lasted three days. | What should I do about a persistent headache?
> Rest, drink water and use a standard over-the-counter pain reliever exactly as the label directs. Seek urgent care for a sudden severe headache or one with fever, a stiff neck, confusion, weakness or vision changes, and see a doctor if headaches keep returning.

[problem] I have chest pain, should I be worried? | My chest feels tight and heavy right now. | How do I know if chest pain is an emergency?
> Chest pressure or pain that spreads to the arm, jaw or back, or comes with shortness of breath, sweating or nausea, needs emergency care now. Call your local emergency number rather than driving yourself.

[info] What are the signs of a stroke? | How can I recognize a stroke? | What should I do if someone's face suddenly droops?
> Watch for face drooping, arm weakness, slurred speech and sudden confusion or vision loss. If you see any of these, call emergency services immediately and note the time the symptoms started.

[problem@carer] My child has a fever, what should I do? | My toddler's temperature is 38.5 degrees. | When is a child's fever dangerous?
> Keep your child drinking fluids and dressed lightly, and use a children's fever medicine dosed by weight if they are uncomfortable. Call a doctor for a baby under three months with any fever, a fever lasting more than three days, a stiff neck, a rash that does not fade when pressed, or trouble breathing.

[info] How can I lower my cholesterol? | What foods help high cholesterol? | My cholesterol came back high, what can I change?
> Eat more soluble fiber from oats, beans and vegetables, swap butter for olive oil, choose fish more often and stay active most days. Ask your doctor to recheck your levels in a few months and discuss whether medication makes sense for you.

[info] What is a normal blood pressure? | How do I read my blood pressure numbers? | Is 135 over 85 high?
> A reading under about 120 over 80 is generally considered normal, and readings that stay at 130 over 80 or above deserve a conversation with your doctor. Measure seated and rested at the same time each day, and keep a log to bring to your appointment.

[info] How can I lower my blood pressure without pills? | Can lifestyle changes reduce blood pressure? | What daily habits help high blood pressure?
> Cutting salt, limiting alcohol, staying active, losing extra weight and sleeping well can all lower blood pressure. Keep taking any prescribed medicine until your doctor tells you otherwise.

[problem] My asthma has been getting worse. | I'm using my rescue inhaler a lot lately. | My inhaler doesn't seem to help as much as it used to.
> Needing your rescue inhaler more than twice a week is a sign your asthma is not well controlled, so book a review with your clinician. Check your inhaler technique with a spacer and avoid triggers like smoke and cold air.

[info] Is it safe to take ibuprofen every day? | Can I take painkillers daily for my back? | How long can I keep using anti-inflammatory pills?
> Daily ibuprofen can irritate the stomach and strain the kidneys, especially in older adults. Use the lowest dose for the shortest time, and ask a pharmacist or doctor about safer long-term pain relief.

[problem] I want to quit smoking but keep failing. | How do I stop smoking for good? | What actually helps people quit cigarettes?
> Set a quit date, use nicotine replacement or a prescribed medicine, and tell friends so they can support you. Most people need several attempts, and a free quit line can greatly improve your chances.

[info] How much exercise do I need? | What is the minimum exercise for good health? | How often should I work out?
> Aim for about 150 minutes of moderate activity a week, such as brisk walking, plus muscle-strengthening exercise twice a week. Any amount is better than none, so start small if you are new to it.

[problem] I burned my hand while cooking. | How do I treat a minor burn? | I spilled boiling water on my arm.
> Cool the burn under cool running water for about twenty minutes, then cover it loosely with a clean non-stick dressing. Avoid ice, butter or creams, and get medical care for burns larger than your palm, deep or heavily blistered burns, or burns on the face or genitals.

[info] What vaccines do adults need? | Am I up to date on my shots? | Do adults need booster vaccines?
> Most adults benefit from a yearly flu vaccine and a tetanus booster every ten years, with others depending on age, health and travel. Your clinic or pharmacy can check your record and tell you what is due.

[fear] I'm terrified about my biopsy results. | I'm waiting for biopsy results and I can't sleep. | The wait for my scan results is making me panic.
> Waiting for results is one of the hardest parts, and feeling scared is completely natural. Ask when and how you will hear back, write down your questions for the appointment, and lean on someone you trust so you are not carrying this alone.

[info] How can I lower my risk of type 2 diabetes? | Diabetes runs in my family, what can I do? | How do I stop prediabetes from getting worse?
> Losing even five to seven percent of body weight, walking most days and cutting sugary drinks substantially lower your risk. Ask your doctor for a yearly blood sugar test such as an HbA1c.

[problem] My seasonal allergies are terrible. | My hay fever is really bad this spring. | I can't stop sneezing when the pollen count is high.
> Non-drowsy antihistamines and steroid nasal sprays help many people, and a pharmacist can suggest one that suits you. Keep windows closed on high pollen days and shower after being outside.

[problem] I found a mole that looks different. | How do I check a mole for skin cancer? | One of my moles has changed color.
> Watch for moles that are asymmetric, have irregular borders or several colors, are larger than a pencil eraser or are changing. Any mole that changes, bleeds or itches should be checked by a doctor or dermatologist soon.

[problem@carer] My mother is becoming forgetful and confused. | How do I support a parent with memory loss? | My dad keeps forgetting recent conversations.
> Ask their doctor for a memory assessment, since some causes such as thyroid problems, low vitamin levels or medication effects are treatable. Keep routines simple, use calendars and labels, and look for a caregiver support group for yourself.

[info] What is a normal resting heart rate? | My resting pulse is 95, is that okay? | How fast should my heart beat at rest?
> For most adults a resting heart rate between 60 and 100 beats per minute is typical, and fit people are often lower. See a doctor if it is often above 100 at rest or comes with dizziness, fainting or shortness of breath.

[info] How should I store my insulin? | Does insulin need to stay in the fridge? | Can I travel with my insulin?
> Keep unopened insulin in the fridge and never let it freeze, while the pen or vial in use can usually stay at room temperature for about four weeks. When traveling, carry it in your hand luggage with a cool pack and a copy of your prescription.

[crisis] I've been thinking about hurting myself. | Sometimes I feel like I don't want to be alive anymore. | I don't see the point in going on. | I started cutting myself again.
> I'm really glad you told me, and you deserve support right now. Please contact a crisis line or emergency services now; in the US you can call or text 988, and elsewhere your local emergency number can connect you to help. If you can, reach out to someone you trust and stay with them.

[crisis@friend] My friend told me they want to end their life. | My teenager said they want to die, what do I do? | My coworker mentioned having a plan to kill himself.
> Take it seriously and stay with them, or make sure someone is with them, and remove access to anything they could use to hurt themselves if it is safe to do so. If they are in immediate danger call emergency services now; in the US you can also call or text 988 together, and elsewhere your local emergency number can connect you to crisis support. Listen without judging and tell them you care.

[problem] How can I tell if I'm dehydrated? | I feel dizzy and my urine is dark. | What are the signs of dehydration?
> Thirst, dark urine, headache, dizziness and tiredness are common signs. Sip water or an oral rehydration drink steadily, and seek care if you feel confused or faint or cannot keep fluids down.

[info] I have surgery next week, how do I prepare? | What should I ask before my operation? | My knee operation is in ten days, how do I get ready?
> Ask about fasting rules, which medicines to pause and what recovery will look like. Arrange a ride home and help for the first few days, and write down who to call if you have problems afterward.

[problem] My stomach hurts when I'm stressed. | Can anxiety cause stomach problems? | I get cramps and nausea before big events.
> Stress can upset digestion, and regular meals, gentle exercise and slow breathing often help. See a doctor if you have weight loss, blood in your stool, vomiting or pain that wakes you at night.

[info@carer] How much sleep does my teenager need? | My teenager sleeps until noon on weekends, is that normal? | Why is my teen always so tired?
> Teenagers need about eight to ten hours of sleep, and their body clock naturally shifts later. A consistent schedule and phones out of the bedroom at night help, and ongoing exhaustion is worth raising with their doctor.

[info] What is a healthy way to lose weight? | How fast can I safely lose weight? | I want to lose weight without crash dieting.
> Aim for about half a kilogram to one kilogram a week through smaller portions, more vegetables and protein, fewer sugary drinks and daily movement. Crash diets rarely last, and your doctor or a dietitian can help you set a realistic plan.

[problem] I have a sore throat and a cough. | I think I'm coming down with a cold. | How do I get over a cold faster?
> Rest, fluids, honey in warm water and throat lozenges can ease symptoms while a cold runs its course over about a week. See a doctor if you have trouble breathing or a high fever, or if symptoms last more than ten days or get worse after improving.

[problem] My lower back hurts after sitting all day. | How do I ease back pain from my desk job? | My back aches every evening.
> Get up and move every thirty to forty-five minutes, set your screen at eye level and keep your lower back supported. Gentle walking usually helps, and seek care if pain spreads down a leg, causes numbness or follows a fall.

[info] Should I take vitamin D? | Do I need to take supplements? | Are multivitamins worth taking?
> Most people get what they need from a varied diet, but vitamin D is often low in winter or with little sun exposure. Ask your doctor before starting supplements, especially if you take other medicines, since some interact.

[info] How do I take my antibiotics correctly? | Can I stop antibiotics when I feel better? | Why do I need to finish my antibiotic course?
> Take antibiotics exactly as prescribed and finish the course unless your doctor tells you otherwise. Stopping early can let the infection return, and call your clinician if you get a rash, swelling or severe diarrhea.

[info] Is it okay to drink alcohol with my medication? | Can I have a glass of wine while on antidepressants? | Does alcohol interact with my prescriptions?
> Alcohol interacts with many medicines, including some antidepressants, sleep aids, painkillers and antibiotics. Check the leaflet or ask your pharmacist about your specific medication before drinking.

[problem] I feel anxious all the time. | My worrying is getting out of control. | My heart races and I can't calm down most days.
> Regular exercise, steady sleep, less caffeine and slow breathing exercises can ease anxiety. If worry has affected your work, relationships or sleep for more than a couple of weeks, talk to your doctor about therapy and other treatment options.

[sadness] I've felt low and empty for weeks. | Nothing makes me happy anymore and I'm always tired. | I've been crying every day and I don't know why.
> I'm sorry you're feeling this way; weeks of low mood deserve real care, not just pushing through. Please book an appointment with your doctor or a mental health professional, and if you ever have thoughts of harming yourself, contact a crisis line or emergency services right away.

[info] How do I prepare for a doctor's appointment? | What should I bring to my checkup? | I never remember what to ask my doctor.
> Write down your symptoms, when they started and your top three questions, and bring a list of all medicines and supplements you take. Ask the doctor to repeat or write down anything unclear before you leave.

[problem] My feet tingle and feel numb. | I've had numbness in my fingers for a week. | Why do my hands go numb at night?
> Numbness can come from pressure on a nerve, but it can also be linked to diabetes, vitamin levels or other conditions, so it is worth a doctor's check. Seek urgent care if numbness is sudden, on one side of the body, or comes with weakness or trouble speaking.

[info] How often should I get a dental checkup? | Do I really need to see the dentist every year? | My gums bleed when I brush, should I worry?
> Most people benefit from a dental checkup every six to twelve months, and bleeding gums are often an early sign of gum disease worth showing your dentist. Brush twice a day with fluoride toothpaste and floss daily.

[info] Is intermittent fasting safe? | Should I try skipping breakfast to lose weight? | Does time-restricted eating work?
> Time-restricted eating can help some people eat less, but it is not better than other balanced approaches for everyone. Avoid it if you are pregnant, have diabetes treated with medication or have a history of eating disorders, unless your doctor agrees.

[info] When should I go to urgent care instead of the emergency room? | How do I know if I need the ER? | Is a sprained wrist an emergency?
> Urgent care suits sprains, minor cuts, mild fevers and simple infections, while the emergency room is for chest pain, trouble breathing, stroke signs, severe bleeding or serious injuries. If you are unsure and symptoms are severe, call emergency services.

[problem] I think I sprained my ankle. | My ankle is swollen after I twisted it. | How do I treat a twisted ankle?
> Rest it, apply a wrapped cold pack for fifteen to twenty minutes a few times a day, use a compression bandage and keep it raised. Get it checked if you cannot put weight on it, it looks deformed or the pain is severe.

[info] How much caffeine is too much? | Is four cups of coffee a day bad for me? | Does coffee affect my sleep?
> For most healthy adults up to about 400 milligrams of caffeine a day, roughly three to four cups of brewed coffee, is considered safe. Caffeine can disrupt sleep for six hours or more, so keep it to the morning if you struggle to sleep.

[problem] I have an itchy red rash on my arm. | Do I need to see a doctor for a rash? | When is a skin rash serious?
> Many rashes come from irritation or allergy and improve with a gentle moisturizer and avoiding the trigger. Seek urgent care if the rash spreads fast, blisters, comes with fever, facial swelling or trouble breathing, or does not fade when you press a glass against it.

[problem] I get heartburn almost every night. | How do I stop acid reflux after dinner? | My chest burns after I eat.
> Eat smaller evening meals at least three hours before bed, raise the head of your bed and cut back on alcohol, caffeine and fatty food. See a doctor if heartburn happens more than twice a week or you have trouble swallowing, and get emergency care if chest pain comes with breathlessness or sweating.

[win] My blood pressure is finally in the normal range! | I've been smoke-free for a whole month! | My doctor said my blood sugar has improved a lot!
> That is a real achievement and a sign your daily habits are working. Keep the routines that got you here, and keep your follow-up appointments so your doctor can adjust your treatment plan.

[win] I just ran five kilometers without stopping! | I've walked every single day for three months! | I finally did a full workout without my knee hurting!
> That is fantastic progress for your heart and overall health. Celebrate it, set your next small goal, and build in rest days so your body can recover and you avoid injury.

[win] My scan came back clear! | The biopsy was benign and I can finally breathe again! | My doctor said the lump is nothing to worry about!
> That is wonderful news, and the relief you feel is well deserved. Ask your doctor whether any follow-up checks are recommended, and take some time to rest and celebrate.

[anger] I'm furious that my doctor dismissed my symptoms. | The clinic keeps cancelling my appointment and I'm so angry. | Nobody is taking my pain seriously and I'm fed up.
> Your frustration is understandable when you feel unheard about your own health. Write down your symptoms, how long they have lasted and how they affect daily life, ask directly what else could explain them, and remember you can request a second opinion.

[disgust] I'm disgusted by how careless the staff were during my mother's hospital stay. | The hospital ward was filthy and nobody seemed to care. | I'm appalled at how rudely a nurse spoke to my elderly father.
> That sounds really upsetting, and you have every right to expect safe, respectful care. Raise it with the nurse in charge or the patient advocate office, write down dates and details, and ask for a written response.

[problem] My cut looks red and swollen. | Is my wound infected? | There is pus around my scrape.
> Spreading redness, warmth, swelling, pus or increasing pain can mean a wound infection, so have a doctor or nurse look at it soon. Seek urgent care if you develop a fever or red streaks spreading from the wound.

[info] What should I ask when I start a new medication? | My pharmacist is great, but what questions should I ask about a new medicine? | I trust my doctor, but I want to understand my new prescription better.
> Ask what the medicine is for, how and when to take it, its common side effects, what to avoid while taking it and what to do if you miss a dose. Keep the information leaflet, and call your pharmacist if anything seems off.

[surprise] I was shocked that my cholesterol is high when I eat well. | I can't believe my blood test says I'm prediabetic! | My doctor just said I have high blood pressure and I had no idea!
> That can be a real shock, since these conditions often cause no symptoms and genetics plays a big part. Ask your doctor what your numbers mean, what target to aim for and when to retest, and focus on one or two habit changes first.

[anticipation] I'm starting a new fitness plan on Monday and I can't wait! | I'm excited to begin my healthy eating plan next week. | Tomorrow is day one of my sleep reset and I'm ready!
> That excitement is great fuel, so turn it into a plan you can keep. Start with small, specific goals, track them for two weeks and adjust rather than trying to change everything at once.

[info] How can I improve my gut health? | Is fiber really that important? | What foods are good for digestion?
> Most adults fall short on fiber, so add beans, lentils, whole grains, fruit, vegetables and nuts gradually while drinking enough water. Fermented foods such as yogurt help some people, and see a doctor if your bowel habits change for weeks.

[problem] I've been getting dizzy when I stand up. | I feel lightheaded when I get out of bed. | Why do I keep having dizzy spells?
> Standing up slowly, drinking enough fluids and not skipping meals often help mild lightheadedness. Tell your doctor, especially if you take blood pressure medicine, and seek urgent care if you faint, have chest pain or feel your heart racing.

[info] How do I do a breast self-check? | Should I check myself for lumps? | What should I know before my first mammogram?
> Get familiar with how your breasts normally look and feel so you notice changes such as a new lump, skin dimpling or nipple discharge, and report them to your doctor promptly. A mammogram takes a few minutes and may feel briefly uncomfortable from the compression.

[info] What should I eat before and after exercise? | What's a good snack before a workout? | Do I need protein after exercise?
> A light snack with carbohydrates an hour or two before exercise gives you energy, and a meal with protein and carbohydrates afterward helps recovery. Drink water before, during and after, especially in hot weather.

[problem@carer] My elderly father fell at home. | How do I prevent falls for my grandmother? | My mom keeps losing her balance.
> Remove loose rugs, add grab bars and night lights, and make sure shoes fit well. Ask their doctor for a fall risk review, since medicines, vision and blood pressure often play a part, and get care right away after any fall with a head injury.
"""

HEALTHCARE_FOLLOWUPS = """
[info,problem] Should I see a doctor about it?
> If it lasts more than a few days, gets worse, or comes with fever, severe pain or trouble breathing, yes, book an appointment or seek urgent care.
[info,problem] Thanks, that helps a lot.
> You're welcome. Take care of yourself, and check in with your clinician if anything changes.
[info,problem] Is there anything I should avoid?
> Avoid starting new supplements or medicines without checking interactions with a pharmacist, and don't ignore symptoms that get worse.
[info,problem] So do you think it's something serious?
> I can't diagnose you, but a doctor can examine you and order the right tests. Write down your symptoms and when they started so the appointment is as useful as possible.
[info,problem] What should I tell my doctor?
> Describe when it started, how often it happens, what makes it better or worse and every medicine or supplement you take. Bring your questions written down so nothing gets forgotten.
[problem] What if it gets worse tonight?
> If you have severe pain, trouble breathing, confusion or chest pain, call emergency services. For anything less urgent, a nurse advice line or an urgent care clinic can help out of hours.
[win] How do I keep this up?
> Keep the routines that got you here, track them weekly and plan for setbacks so one bad day does not undo your progress. Your doctor can help you set the next health target.
[win] Thank you, I'm so relieved.
> You're very welcome. Enjoy the good news, and keep up with your regular checkups.
[feel] Thank you, I feel a little calmer now.
> I'm glad. Take it one step at a time, and reach out to your care team or someone close to you whenever you need support.
[feel] What else can I do today?
> Write down your questions, take a short walk or do something calming, and make one call that moves things forward, like booking the appointment.
[crisis] I don't know if I can call anyone.
> That's okay; many crisis lines also offer text or online chat, and you can start by saying only that you are struggling. If you feel you might act on these thoughts, please call emergency services or go to the nearest emergency department now.
[crisis@friend] What if they ask me to keep it secret?
> Their safety comes first, so it is okay to tell someone who can help, such as a crisis line, a family member or emergency services. You can tell them you care too much to keep it to yourself.
[crisis@friend] How do I look after myself after this?
> Supporting someone in crisis is draining, so talk to someone you trust, and crisis lines support worried friends and family too. You do not have to carry this on your own.
[crisis] Thank you for not judging me.
> You deserve care and support, not judgment. Please reach out to a crisis line or someone you trust right now, and consider booking an appointment with a doctor or counselor for ongoing help.
"""

# ---------------------------------------------------------------------------------------------
# business
# ---------------------------------------------------------------------------------------------

BUSINESS_OPENERS = """
neutral: I run a small business. | Question about my company.
joy.low: Business has been decent lately. | Sales are steady and I'm feeling good.
joy.high: Our sales are booming and I'm thrilled! | Things at the company are going brilliantly right now!
sadness.low: It's been a disappointing quarter. | I'm feeling a bit discouraged about the business.
sadness.high: I'm heartbroken, I've put everything into this company and it's struggling. | I feel like a complete failure as a business owner right now.
anger.low: I'm annoyed, this keeps eating into our margins. | It's frustrating that this keeps happening at work.
anger.high: I'm furious, this is costing us real money! | I'm so angry I could walk out of my own company.
fear.low: I'm a little nervous about the numbers. | I'm slightly worried about where the business is heading.
fear.high: I'm terrified we're going to lose everything. | I'm panicking, our runway gets shorter every week.
surprise.low: This caught me off guard at work. | I didn't expect this from our customers.
surprise.high: I'm stunned, I never saw this coming in our market! | I can't believe this just happened to the company!
disgust.low: Honestly, the way this went leaves a bad taste. | I find this side of business a bit distasteful.
disgust.high: I'm disgusted by how unprofessional this whole situation has been. | Frankly, this whole mess makes me sick.
trust.low: A fellow founder said you give solid business advice. | I think you can help me think this through.
trust.high: I trust your judgment on business decisions, so I'm asking you first. | Your pricing advice was spot on last time, so I'm back.
anticipation.low: I'm planning ahead for next quarter. | I'm getting ready for our annual budget review.
anticipation.high: We're about to scale up and I'm eager to get this right! | Next quarter could be huge for us and I can't wait!
"""

BUSINESS_ACKS = """
fear.high: Cash worries keep a lot of founders up at night, and concrete numbers are the antidote.
anger.high: Losing money or time to this would make any owner angry, so turn that energy into a plan.
sadness.high: Building a company is personal, and hard stretches hit hard, but there are practical options.
trust.high: Thanks for the confidence; here is how I would approach it as an owner.
"""

BUSINESS_TOPICS = """
[info] How should I price my consulting services? | What hourly rate should I charge as a freelancer? | How do I set my day rate for clients?
> Start from your target annual income plus overhead, divide by realistic billable hours and compare the result with market rates. For projects with clear outcomes, consider value-based pricing instead of hourly billing.

[problem] We're profitable but always short on cash. | How do I improve my cash flow? | Our cash flow is a mess even though sales are up.
> Invoice immediately, shorten payment terms, offer a small discount for early payment and negotiate longer terms with suppliers. Keep a rolling thirteen-week cash forecast so you see shortfalls before they arrive.

[problem] Our supplier just raised prices by fifteen percent. | How do I negotiate a better deal with a supplier? | Can I push back on a vendor price increase?
> Know your alternatives before the conversation, bring volume forecasts and ask for tiered pricing or a longer contract in exchange for a lower unit price. Negotiate payment terms and delivery schedules as well as price.

[info] When should I hire my first employee? | Is it time to hire help for my business? | How do I know I can afford a new hire?
> Hire when recurring work consistently exceeds your capacity and the revenue it frees up covers the salary plus roughly twenty to thirty percent for payroll taxes and benefits. Start with the role that removes your biggest bottleneck.

[info] How do I write a simple business plan? | What goes into a business plan for a bank loan? | Do I need a business plan to start a company?
> Cover the customer problem, your solution, target market, competitors, pricing, sales channels and a twelve-month financial forecast. Keep it short and update it as you learn from real customers.

[problem] Our biggest client wants to leave. | How do I keep a key customer from churning? | A major account just told us they're reviewing other vendors.
> Meet them quickly, ask what changed and agree on a concrete fix with a timeline and an owner. Longer term, reduce your dependency by growing other accounts so no single client is more than a quarter of revenue.

[info] What marketing works for a local bakery? | How do I get more customers into my shop? | What's the cheapest way to market a small restaurant?
> Local search listings with good photos, a simple loyalty card, samples at community events and partnerships with nearby businesses usually pay off fastest. Ask every happy customer for a review.

[info] How do I calculate my break-even point? | How many units do I need to sell to cover my costs? | What does break-even mean for my shop?
> Divide your fixed costs by the contribution margin per unit, which is price minus variable cost per unit. The result is how many units you must sell each period before you make a profit.

[info] Should I take a bank loan or find an investor? | Is debt or equity better for growing my company? | Should I give up equity to raise money?
> A loan keeps ownership but needs steady cash flow for repayments, while equity brings capital and sometimes advice but dilutes your stake. Match the choice to how predictable your revenue is and how fast you need to grow.

[problem] A client hasn't paid their invoice in sixty days. | How do I chase a late paying customer? | Customers keep paying us late.
> Send a polite reminder with the invoice attached, then call the person who approves payments and agree on a date or a payment plan. Pause further work until the balance is settled, and add late fees and shorter terms to future contracts.

[problem] We get lots of leads but few customers buy. | How can I increase my sales conversion rate? | Prospects go quiet after our sales demo.
> Qualify leads earlier, follow up within one business day and answer common objections with short case studies. Make the next step and the contract as simple as possible.

[info] What metrics should a small business track? | Which numbers matter most for a startup? | What should be on my monthly business dashboard?
> Track monthly revenue, gross margin, customer acquisition cost, churn, cash runway and customer lifetime value. Review them on the same day each month so trends stand out.

[info] I have an investor pitch next week, how do I prepare? | What should be in my pitch deck? | How do I pitch my startup to investors?
> Tell a clear story: the problem, your solution, traction, market size, business model, team and the amount you are raising. Rehearse answers to tough questions about competition and unit economics until they are short and confident.

[problem] I'm overwhelmed running my business alone. | How do I stop working eighty-hour weeks? | I'm burning out as a solo founder.
> List your tasks for a week, then automate or outsource the low-value ones and set firm working hours. Protect a weekly planning block so you work on the business and not only in it.

[problem] A customer left a one-star review. | How should I respond to a bad online review? | Someone posted an unfair review of my business.
> Reply publicly within a day, thank them, acknowledge the issue without arguing and offer to resolve it privately. Then fix the process that failed, since future customers read how you respond.

[info] How do I set sales targets for my team? | What is a fair sales quota? | How do I design a commission plan?
> Base targets on historical conversion rates, pipeline and average deal size, and set them so most of the sales team can hit them with effort. Pay commission on collected revenue and review the plan every quarter.

[info] What should be in a contract with a freelancer? | Do I need a written agreement with a contractor? | What terms protect me when I hire a freelancer?
> Define the scope, deliverables, deadlines, payment terms, ownership of the work, confidentiality and how either side can end the agreement. Have a lawyer review your template once so you can reuse it.

[info] How do I know if my product has market fit? | Do customers really want what we sell? | How do I test demand before launching?
> Strong retention, customers who would be very disappointed to lose you and referrals you did not ask for are the clearest signs. Before launching, test demand with pre-orders or a simple landing page and a small ad budget.

[info] Should I raise my prices? | Our prices haven't changed in three years. | How do I tell customers about a price increase?
> If your costs have risen and customers rarely push back on price, you are probably undercharging. Raise prices with clear notice, explain the value you deliver and consider keeping existing customers on the old rate for a short period.

[problem] Our expenses keep growing faster than revenue. | How do I cut operating costs? | Our overhead is eating all our profit.
> Review every recurring subscription and contract, renegotiate rent and supplier terms and fix waste in your biggest process. Tie each remaining expense to a measurable return.

[win] We just closed our first big deal! | We signed our largest contract ever! | We landed our first enterprise customer!
> Congratulations, that is a major milestone! Now plan onboarding carefully, assign a clear account owner, confirm success criteria in writing and ask for a reference once results show.

[problem] We keep running out of our best sellers. | How do I manage inventory better? | We have too much cash tied up in stock.
> Track sales velocity for each product, set reorder points with some safety stock and review slow movers monthly. Clearing slow stock frees cash for the products that actually sell.

[info] What is a good gross margin? | Is a thirty percent margin good? | How do I improve my profit margins?
> It depends on the industry: software often exceeds seventy percent while retail is often twenty-five to fifty percent. Compare with peers, and improve margin through pricing, supplier costs and dropping low-margin products.

[info] Should we expand into another country? | How do I enter a new market? | Is it time to open a second location?
> Validate demand with a small test first, learn the local regulations and taxes and budget for a longer sales cycle. A second location should only follow once the first runs well without you there every day.

[problem] A competitor is undercutting our prices. | How do I compete with a cheaper rival? | A big chain opened next door with lower prices.
> Avoid a price war you cannot win; emphasize quality, service, speed and relationships, and target customers who value them. Look for costs you can trim without hurting the product.

[info] How do I forecast revenue for next year? | What's a simple sales forecast method? | How do I build a financial projection?
> Build it bottom-up from your pipeline, conversion rates and average deal size, then sanity-check it against last year's growth and seasonality. Make a conservative and an optimistic version and plan spending around the conservative one.

[info] How do I choose an accountant? | Do I need an accountant for a small company? | What should a bookkeeper do for me?
> Look for someone who knows your industry and tax situation, agree on fees up front and ask for monthly reports, not just year-end filings. Clean monthly books make every other business decision easier.

[info] What's the best way to get customer feedback? | How do I find out what clients really think? | Should I survey my customers?
> Run short interviews with a handful of customers, send a two-question survey after purchase and watch how people actually use your product. Ask what almost stopped them from buying.

[anger] I'm furious, a client refuses to pay for work we already delivered. | A customer is refusing to pay our final invoice and I'm livid.
> That is infuriating, especially after you delivered. Send a formal written demand that cites the contract and a deadline, keep all records, and if it stays unpaid consider a collection agency or small claims court rather than more heated emails.

[anger] My business partner signed a deal without asking me and I'm so angry. | I'm fed up with my co-founder making big decisions alone.
> Your anger is understandable when a partner bypasses you. Take a day to cool down, then meet privately to agree in writing which decisions need both of you, and use your partnership agreement or a mediator if you cannot resolve it.

[fear] I'm scared we won't make payroll this month. | I'm terrified my business is going to fail. | I'm worried sick we'll run out of money in three months.
> That fear is heavy, and facing the numbers directly is the best way to shrink it. Build a week-by-week cash forecast, ask your biggest customers about early payment, talk to your bank about a short-term credit line and cut nonessential spending now.

[sadness] I had to close my shop and I feel like a failure. | My startup shut down and I'm heartbroken. | We lost the business I spent ten years building and I can't stop feeling sad.
> I'm sorry; closing a business you built is a real loss, and it does not make you a failure. Give yourself time, write down what you learned about customers and costs, and wrap up obligations to staff, suppliers and tax authorities carefully.

[disgust] A supplier lied about their product quality and I'm disgusted. | I'm appalled that our vendor shipped us counterfeit parts.
> Feeling betrayed by a supplier is understandable. Document the defects, stop further orders, enforce the contract's quality and refund terms, and qualify a backup supplier so you never depend on a single source.

[disgust] I'm sickened that an employee was padding their expense reports. | It disgusts me that someone on staff has been stealing from the till.
> That is a serious breach of trust. Gather the facts quietly, get advice from an employment lawyer or HR professional before confronting anyone, and tighten controls such as receipts, approvals and separate duties for handling cash.

[surprise] We suddenly got a huge order we can't fulfill! | Our product went viral overnight and I can't believe it! | A national retailer just called wanting to stock our product, I'm stunned!
> What a surprise, and a good problem to have. Be honest with customers about delivery dates, take pre-orders instead of overpromising, and line up extra suppliers or short-term staff before you scale up spending.

[trust] I trust your judgment, should I sign a long lease for our first office? | You've been right before, so should I sign a five-year lease for our shop?
> Be cautious with long leases early on: choose the shortest term you can, negotiate a break clause and a few months of free rent, and keep rent well below your monthly gross profit. Flexible space is often worth a higher monthly price while you grow.

[anticipation] We launch our new product next week and I can't wait! | Our grand opening is on Saturday and we're counting the days!
> That launch energy is great, so channel it into a checklist. Confirm stock or capacity, brief your team on their roles, have a simple way to capture customer contacts and plan a follow-up offer for the week after.

[info] How do I hire a great salesperson? | What should I look for when hiring sales staff? | How do I interview candidates for my small company?
> Define the outcomes the role must deliver, ask every candidate the same structured questions and ask for specific examples of past results. For sales roles, include a short role-play of a real customer call.

[problem] Running my company is making me anxious all the time. | How do I handle stress as a business owner? | How do entrepreneurs avoid burning out?
> Separate what you can control from what you can't, keep regular hours and exercise, and build a small group of fellow owners you can be honest with. A clear weekly review of cash and sales often lowers anxiety because the unknowns shrink, and talk to a doctor if stress is hurting your sleep or health.

[info] How do I build an email list for my business? | Is email marketing still worth it? | How often should I email my customers?
> Offer something useful in exchange for an email address, such as a discount or a practical guide, and send a consistent newsletter every two to four weeks. Measure open and click rates and remove inactive subscribers twice a year.

[info] How do I choose the right social media platform for my business? | Should my company be on every social network? | Where should a B2B company start with social media?
> Go where your customers already spend time and do one or two platforms well rather than all of them poorly. For business buyers, a professional network and useful customer case studies usually beat entertainment-style posts.

[info] How much should I spend on marketing? | What is a reasonable marketing budget? | How do I measure marketing return on investment?
> Many small businesses spend about five to ten percent of revenue on marketing, more when launching. Track cost per lead and cost per customer for each channel and move budget toward the ones that pay back fastest.

[info] How do I negotiate a higher price with a client? | A client wants a discount, what do I say? | How do I avoid giving away discounts?
> Anchor on the value and results you deliver, and if you give something, get something back, such as a longer contract, faster payment or a case study. Never cut price without also reducing scope.

[info] How do I prepare for a tough negotiation? | What is a BATNA and why does it matter? | How do I negotiate a contract with a bigger company?
> Know your best alternative if there is no deal, research the market range and open with a specific, well-justified number. Listen more than you talk, and trade concessions rather than giving them away.

[info] Should I register as a sole proprietor or form a company? | What legal structure is best for a small business? | Do I need to incorporate my business?
> A limited company or LLC separates your personal assets from business debts, while a sole proprietorship is simpler but leaves you personally liable. Rules and taxes vary by country, so confirm with an accountant or business adviser.

[info] How do I write a good job description? | How do I attract good candidates to a small company? | Why is nobody applying to my job ad?
> Lead with what the person will achieve in the first year, list only must-have skills and include the salary range. Describe the real benefits of a small company, like ownership and learning, and share the post in niche communities.

[problem] An employee quit and left us in a bind. | How do I reduce staff turnover? | Good people keep leaving my business.
> Ask departing staff honestly why they are leaving and fix the top reason, whether it is pay, workload or lack of growth. Pay at market rate, give regular feedback and show a visible path to a bigger role.

[info] How do I write a proposal that wins clients? | What should a sales proposal include? | My proposals never turn into sales.
> Restate the client's problem in their words, propose a clear solution with deliverables and a timeline, and show the price as two or three options. Add a short case study and a specific next step with a date.

[info] How do I reduce customer churn? | How do subscription businesses keep customers? | Our monthly subscribers cancel after two months.
> Improve onboarding so customers get value in the first week, track usage to spot accounts at risk and reach out before they cancel. Offer an annual plan with a discount to improve retention and cash flow.

[info] What is customer acquisition cost? | How do I calculate CAC and LTV? | How much can I spend to win a new customer?
> Customer acquisition cost is total sales and marketing spend divided by the number of new customers won in the period. A common target is a customer lifetime value at least three times that cost, with the cost paid back within about a year.

[info] How do I prepare my company for tax season? | What records should my business keep? | How do I avoid a surprise tax bill?
> Keep receipts, invoices, payroll and bank statements organized monthly, and set aside a fixed percentage of profit for taxes in a separate account. Meet your accountant before the financial year ends to plan, not just afterward.

[info] Should I offer free shipping? | How do I price shipping in my online store? | Does free delivery increase sales?
> Free shipping often lifts conversion, but build the cost into product prices or set a minimum order value above your average basket. Test one approach for a month and compare profit margin, not only sales.

[info] How do I run a successful trade show booth? | Are trade shows worth the money? | How do I get leads at an industry event?
> Set a lead target before the show, book meetings with prospects in advance and have a clear offer for visitors. Follow up every lead within forty-eight hours while they still remember you.

[win] We hit one million in annual revenue! | Our revenue doubled this year! | We finally turned our first profit!
> Congratulations, that is a milestone many businesses never reach! Celebrate with your team, then review what drove the growth and make sure your systems, cash reserves and hiring can keep up.

[win] We just won a small business award! | A trade magazine wrote a feature about our company! | Our customer satisfaction score hit an all-time high!
> That recognition is well earned, congratulations! Share it with customers and staff, add it to your website and proposals, and use the momentum to ask happy clients for referrals.

[info] What should be in a partnership agreement? | How do I set up a business partnership properly? | My co-founder and I disagree on company strategy.
> Put roles, equity, decision rights, vesting and an exit process in a written agreement while you still get along. Meet regularly on strategy, and bring in a neutral adviser when disagreements stall decisions.

[info] How do I set up a simple budget for my company? | How do I budget for next quarter? | What's a good way to track business expenses?
> List expected revenue conservatively, then fixed costs, variable costs and a buffer of about ten percent. Compare actual numbers against the budget every month and adjust early.

[info] Should I sell to businesses or to consumers? | B2B or B2C, which is easier to start? | Who should my target customer be?
> Business customers usually mean fewer, larger deals with longer sales cycles, while consumers mean more, smaller purchases and heavier marketing. Pick the customer group with the most painful problem you can solve and the budget to pay for it.

[problem] A big deal fell through at the last minute. | We lost a contract we were sure we'd win. | Our best prospect chose a competitor.
> Ask the prospect for honest feedback on why they chose differently and record it. Review your sales pipeline so one deal never carries the quarter, and keep the relationship warm because plans change.
"""

BUSINESS_FOLLOWUPS = """
[info,problem] What should I do first?
> Pick the single action with the biggest effect on cash or revenue this month, put a date on it and review the result next week.
[info,problem] Can you give me a number to aim for?
> As a rule of thumb, keep at least three months of operating expenses in cash and aim for a gross margin above forty percent if your industry allows it.
[info,problem] Thanks, that is really useful.
> Glad it helps. Revisit the numbers monthly and adjust as you learn.
[info,problem] How do I know if it's working?
> Pick one metric that reflects the change, such as margin, conversion rate or days to get paid, and compare it monthly against your starting point.
[info,problem] Should I get professional advice?
> For legal, tax or financing decisions, yes; an hour with an accountant or lawyer is cheap compared with a costly mistake.
[win] What should we do next?
> Write down what drove the result, protect the cash it generates and set the next ninety-day goal with your team.
[win] Should we celebrate or reinvest?
> Do both: mark the moment with your team, then put most of the gain toward a cash reserve and the one investment with the clearest return.
[feel] Thanks, I needed to hear that.
> Anytime. Running a business is hard, so lean on your numbers, your advisers and your peers, and take it one decision at a time.
[feel] What should I do this week?
> Pick the one action that protects cash or customers most, schedule it for tomorrow morning and review the result on Friday.
"""

# ---------------------------------------------------------------------------------------------
# education
# ---------------------------------------------------------------------------------------------

EDUCATION_OPENERS = """
neutral: I have a question about studying. | Quick study question.
joy.low: Classes are going pretty well this term. | I'm in a good mood about school today.
joy.high: I absolutely love learning this subject! | I'm so happy, my grades are finally improving!
sadness.low: I'm feeling a bit down about my studies. | School has been discouraging lately.
sadness.high: I feel hopeless about school and I've been crying over my grades. | I'm devastated, I feel like I'm falling behind everyone in class.
anger.low: I'm a bit annoyed with this assignment. | This homework is frustrating me.
anger.high: I'm so angry, I've studied for hours and it still doesn't make sense! | I'm furious at myself for falling behind in class again!
fear.low: I'm a little nervous about the upcoming test. | I'm slightly worried about my grades.
fear.high: I'm terrified of failing this course. | I'm panicking because my exams are so close.
surprise.low: My teacher's comment caught me off guard. | I was surprised by my last test result.
surprise.high: I'm shocked, the exam was nothing like the practice questions! | I can't believe how much I'm struggling with this subject!
disgust.low: Honestly, this textbook is dull and off-putting. | I'm kind of sick of this subject.
disgust.high: I'm disgusted with how little I studied this semester. | I absolutely loathe this homework.
trust.low: My classmate said you explain things clearly. | My tutor suggested I ask you.
trust.high: You always explain things better than my textbook, so I'm asking you. | I trust your study advice completely.
anticipation.low: I'm planning ahead for next semester. | I want to get ready for the new school year.
anticipation.high: I can't wait to ace my next test! | I'm eager to finally master this topic!
neutral@teacher: I'm a teacher with a classroom question. | Question about my class.
joy.low@teacher: My classes are going fairly well this term. | I'm enjoying teaching this year.
joy.high@teacher: I love my class this year and I'm so happy to be teaching! | I'm thrilled with how my students are doing!
sadness.low@teacher: I'm a bit discouraged as a teacher this week. | Teaching has felt draining lately.
sadness.high@teacher: I feel like I'm failing my students and it's breaking my heart. | I'm exhausted and close to tears about my classroom.
anger.low@teacher: I'm a little frustrated with my class. | It's irritating that my lesson plans keep falling apart.
anger.high@teacher: I'm furious, my lessons keep getting derailed! | I'm so angry about how this school year is going!
fear.low@teacher: I'm a bit nervous about my classroom observation next week. | I'm slightly worried about my students' progress.
fear.high@teacher: I'm terrified my students won't be ready for their exams. | I'm scared I'm not a good enough teacher.
surprise.low@teacher: Something in class surprised me today. | My students' test results caught me off guard.
surprise.high@teacher: I'm shocked at how far behind my class is! | I can't believe how differently my lesson went from the plan!
disgust.low@teacher: Honestly, the paperwork side of teaching puts me off. | I'm a bit sick of the same old lesson routine.
disgust.high@teacher: I'm disgusted by how little support teachers get. | I'm fed up to the point of feeling sick about my classroom.
trust.low@teacher: A colleague said you give good teaching tips. | Another teacher recommended asking you.
trust.high@teacher: I trust your teaching advice more than any workshop. | Your classroom tips have worked before, so I'm asking again.
anticipation.low@teacher: I'm planning lessons for next term. | I'm preparing for a new unit.
anticipation.high@teacher: I can't wait to try something new with my class! | I'm so excited to start a new unit next week!
neutral@parent: I'm a parent with a school question. | Question about my child's learning.
joy.low@parent: My kid is doing okay at school. | Things are going fine with my child's schooling.
joy.high@parent: I'm so proud of my child this term! | My kid is thriving at school and I'm thrilled!
sadness.low@parent: I'm a bit sad about my child's schoolwork. | It's been a discouraging week of homework battles.
sadness.high@parent: It breaks my heart to see my child struggle at school. | I'm in tears watching my kid fall behind in class.
anger.low@parent: I'm a little frustrated with homework time. | It's annoying how every evening turns into a homework fight.
anger.high@parent: I'm furious that the school hasn't helped my child! | I'm so angry, we fight about homework every single night!
fear.low@parent: I'm a bit nervous about my child's progress. | I'm slightly worried my kid is falling behind.
fear.high@parent: I'm scared my child will fall too far behind to catch up. | I'm terrified my kid is going to fail this school year.
surprise.low@parent: My child's report card surprised me. | The teacher's comments caught me off guard.
surprise.high@parent: I'm shocked, I had no idea my child was struggling! | I can't believe the school only told us now!
disgust.low@parent: Honestly, the homework load puts me off. | I'm a bit fed up with how school handles this.
disgust.high@parent: I'm disgusted by how little support my child is getting. | Frankly, the way the school handled this makes me sick.
trust.low@parent: Another parent said you give good advice on learning. | My child's teacher suggested I ask you.
trust.high@parent: I trust your advice on learning, so I'm asking you first. | You've helped me before with my kid's schoolwork.
anticipation.low@parent: I'm planning ahead for the school year. | I want to get ready before term starts.
anticipation.high@parent: My child starts at a new school soon and we're excited! | I can't wait to help my kid have a great school year!
"""

EDUCATION_ACKS = """
fear.high: Exam nerves are very common, and a clear study plan will shrink them.
fear.high@teacher: Many teachers feel that pressure, and a few focused changes usually help more than working longer hours.
sadness.high@parent: Watching your child struggle is painful, and your support at home really matters.
sadness.high: Struggling with learning does not mean you can't learn, and there is a way forward.
anger.high: Getting stuck is maddening, so break the topic into smaller steps.
trust.high: Thanks for asking; here it is step by step.
"""

EDUCATION_TOPICS = """
[info] How do I make a study plan for my exams? | I have five exams in three weeks, how should I plan? | How do I organize my revision timetable?
> List each exam date and its topics, split the weeks into daily study blocks and rotate subjects so nothing is left until the end. Schedule practice papers and keep the last few days for review.

[problem] I freeze up during exams. | How do I deal with exam anxiety? | My mind goes blank when the test starts.
> Practise under timed conditions so the real exam feels familiar, and take slow breaths for a minute before you begin. Start with a question you know well to build momentum, and remember that some nerves actually sharpen focus.

[info] Can you explain photosynthesis simply? | What is photosynthesis? | How do plants make their own food?
> Plants use energy from sunlight to turn water and carbon dioxide into glucose, releasing oxygen as a by-product. This happens in the chloroplasts, mostly in the leaves.

[info] What is the best way to memorize vocabulary? | How do I learn new words in a foreign language? | I forget new vocabulary within a few days.
> Use spaced repetition flashcards, say each word aloud in a sentence and review a little every day instead of cramming. Grouping words by topic also helps them stick.

[info] How do fractions work? | Why do I need a common denominator to add fractions? | How do I add one third and one quarter?
> A fraction describes equal parts of a whole, and you can only add parts of the same size. Rewrite both with a common denominator, so one third is four twelfths and one quarter is three twelfths, then add the numerators to get seven twelfths.

[problem] I can't stay focused when I study. | My phone distracts me all the time when I revise. | I read the same page over and over and nothing sticks.
> Put your phone in another room, work in twenty-five minute blocks with five minute breaks and set one clear goal for each block. Active methods like self-quizzing hold your attention better than rereading.

[info] How do I write a good essay introduction? | My essay openings are weak. | What makes a strong thesis statement?
> Open with a hook, give brief context and finish with a clear thesis that states your argument and the main points you will use to support it. A strong thesis is specific and arguable, not just a statement of fact.

[info] What is the Pythagorean theorem? | How do I find the longest side of a right triangle? | What is a hypotenuse?
> In a right triangle, the square of the hypotenuse, the side opposite the right angle, equals the sum of the squares of the other two sides. So if the two shorter sides are 3 and 4, the hypotenuse is the square root of 25, which is 5.

[problem@parent] My son struggles to read at his grade level. | How do I help my child with reading? | My daughter hates her reading homework.
> Read together for fifteen minutes every day, let your child choose books they enjoy and talk about the story rather than only correcting words. Ask the teacher whether an assessment or extra reading support would help.

[info] What is the difference between weather and climate? | Is climate just long-term weather? | How is climate different from the weather forecast?
> Weather is what the atmosphere is doing today, like rain or sun, while climate is the average pattern of weather in a place over about thirty years. A handy summary for class is that climate is what you expect and weather is what you get.

[info] How do I take better notes in lectures? | My lecture notes are messy and useless. | Should I type or handwrite my notes?
> Divide the page into a notes area, a narrow column for questions and a short summary at the bottom, and write key ideas in your own words. Handwriting often helps understanding, and reviewing notes within a day matters more than the tool.

[problem@teacher] My students seem bored in class. | How can I make my lessons more engaging? | How do I get quiet students to participate?
> Open with a question or puzzle, use short activities and let students discuss in pairs before sharing with the class. Connecting the topic to their lives and giving thinking time before calling on anyone helps quieter students join in.

[info] What is the scientific method? | How do scientists test an idea? | What's the difference between a hypothesis and a theory?
> Scientists ask a question, form a testable hypothesis, run an experiment, analyze the data and draw a conclusion that others can repeat. A theory is a well-tested explanation supported by many experiments, much stronger than a single hypothesis.

[info] How do I solve linear equations? | What does it mean to solve for x? | How do I solve 3x plus 5 equals 20?
> Do the same operation to both sides of the equation until x is alone. For 3x plus 5 equals 20, subtract 5 from both sides to get 3x equals 15, then divide by 3 to get x equals 5.

[info] Should I study in the morning or at night? | When is the best time of day to study? | Is it bad to pull an all-nighter before an exam?
> Study when you are most alert and keep a consistent schedule. Avoid all-nighters, because sleep is when the brain consolidates what you learned, and a rested mind recalls far more on exam day.

[sadness] I failed my math test and I feel stupid. | I got a terrible grade and I want to give up. | I studied so hard and still failed the exam.
> One grade does not define your ability, and struggling is part of learning. Go through the mistakes to find the topics that tripped you up, ask your teacher for help and practise those specifically before the next test.

[info] How does the immune system work? | What do white blood cells do? | How do vaccines teach the body to fight germs?
> White blood cells find and destroy invaders, and some make antibodies that target a specific germ. Vaccines show the immune system a harmless version or part of a germ so it remembers it and responds faster later.

[info] How do I learn to code as a beginner? | What programming language should I learn first? | Is it too late to learn programming at forty?
> Python is a friendly first language, so learn the basics, then build tiny projects you care about and practise a little every day. It is never too late, since consistent practice matters far more than age.

[info] What is the water cycle? | How does rain form? | Can you explain evaporation and condensation?
> Water evaporates from oceans and lakes, rises and cools into clouds through condensation, then falls as precipitation and collects in rivers and seas. The cycle then repeats, driven by energy from the sun.

[info@teacher] How do I give useful feedback on student essays? | What does helpful written feedback look like? | How much should I correct on a student's paper?
> Name one specific strength, focus on one or two priorities for improvement and show an example of how to revise. Marking every error overwhelms students, so target the issues that matter most for this assignment.

[problem] I work twenty hours a week and study full time. | How do I balance school and a part-time job? | I have no time to study because of my job.
> Plan your week every Sunday, use short gaps such as commutes for flashcard review and tell your employer about exam periods early. Protect one evening a week to rest so you do not burn out before finals.

[problem] My group members don't do their share. | How do I handle a group project fairly? | One person in my project group does nothing.
> Agree on roles and deadlines in writing at the start and hold a short weekly check-in. If someone still does not contribute, raise it with them directly first and then with your teacher, with notes of who did what.

[info] How do I understand probability? | What does a probability of one half mean? | What are the chances of rolling a six?
> Probability measures how likely an event is, from zero for impossible to one for certain. A fair die has six equally likely sides, so the chance of rolling a six is one in six, about seventeen percent.

[problem] I read slowly and forget what I read. | How can I read faster and remember more? | Textbook chapters take me forever to get through.
> Preview the headings and chapter summary first, read with a question in mind and write a one-sentence summary after each section. Reading speed grows with practice, but understanding matters more than speed.

[info@teacher] How do I teach a mixed-ability class? | How do I differentiate instruction? | Some of my students are far ahead and others are lost.
> Set one core task for everyone with extension challenges for fast finishers and scaffolded steps or worked examples for those who need support. Use quick checks such as exit tickets to regroup students as they progress.

[info] What is a good way to revise for a history exam? | How do I remember dates and events? | How should I study for essay-based exams?
> Make a timeline of key events, link each one to causes and consequences and practise writing timed essay plans. Explaining events aloud in your own words shows you what you really know.

[info] How do I write a lab report? | What sections does a science report need? | How do I write a good conclusion for an experiment?
> Most lab reports have an aim, hypothesis, method, results, discussion and conclusion. The conclusion should say whether the data supported the hypothesis, note sources of error and suggest an improvement to the experiment.

[info] What's the difference between mean, median and mode? | How do I find the median? | When should I use the median instead of the average?
> The mean is the sum divided by the count, the median is the middle value when the data is sorted and the mode is the most common value. Use the median when a few extreme values would distort the average, such as with household incomes.

[info] How do I cite sources in a research paper? | What citation style should I use? | How do I avoid plagiarism in my essays?
> Use the style your instructor requires, cite every quote and paraphrased idea and keep a reference list as you research. Putting ideas in your own words and crediting the source avoids plagiarism.

[info] What is gravity? | Why do things fall down? | Why does the Moon orbit the Earth?
> Gravity is a pull that every object with mass has on every other object, and the huge mass of the Earth pulls things toward its center. That is why a dropped ball falls and why the Moon keeps circling the Earth instead of flying off into space.

[info] How do I prepare for a job interview after graduating? | I have my first interview after university. | How do I answer tell me about yourself in an interview?
> Research the employer, prepare three short stories about your projects using situation, task, action and result, and practise them out loud. For the opening question, give a one-minute summary of your studies, a key achievement and why this role interests you.

[problem] I keep procrastinating on my assignments. | I leave everything until the night before. | How do I stop putting off homework?
> Break the assignment into tiny first steps, such as writing the title and three bullet points, and start with just ten minutes. Set mini deadlines in your calendar and tell a friend so you have someone to report to.

[info@parent] What's a fun way to practise multiplication? | How can I help my child learn the times tables? | My child can't remember the times tables.
> Learn them in families, starting with twos, fives and tens, and look for patterns such as the digits of the nines adding up to nine. Short daily games with cards or dice work better than long drills.

[info] How does the heart pump blood? | What are the chambers of the heart? | Can you explain blood circulation simply?
> The heart has four chambers: the right side pumps blood to the lungs to pick up oxygen, and the left side pumps oxygen-rich blood to the rest of the body. Valves keep the blood moving in one direction.

[info] What is an atom? | What are protons, neutrons and electrons? | What is an atom made of?
> An atom is the smallest unit of an element, with a nucleus of protons and neutrons surrounded by electrons. The number of protons decides which element it is, so every carbon atom has six protons.

[info] How do I study for a math exam? | Is doing practice problems better than reading notes? | How many practice questions should I do before a test?
> Do lots of practice problems, starting with worked examples and moving to mixed questions without notes. Check each answer, and redo the ones you got wrong a few days later.

[info] What is active recall? | Does rereading my notes actually work? | What are the most effective study techniques?
> Active recall means testing yourself, for example by closing the book and writing down what you remember, and it beats rereading by a wide margin. Combine it with spaced repetition, reviewing material at increasing intervals.

[problem@teacher] My class is noisy and won't settle. | How do I manage classroom behavior? | How do I handle a disruptive student?
> Set a few clear routines from the first day, praise the behavior you want to see and use calm, private corrections rather than public ones. Talk with a persistently disruptive student one to one to understand what is behind it.

[info] How do I learn a language faster? | Can I become fluent in a year? | How much should I practise speaking a new language?
> Practise a little every day, mixing listening, speaking and vocabulary review, and speak from the first week even if it feels awkward. Conversation practice with a partner or tutor speeds progress more than grammar drills alone.

[info@parent] How do I help my teenager with homework without doing it for them? | My child wants me to do their homework. | How involved should parents be in homework?
> Ask guiding questions such as what the task is asking and where they could find an example, and let them do the writing and thinking. Help them plan their time, and tell the teacher if homework regularly causes distress.

[info] How do I use commas correctly? | Where do commas go in a sentence? | I always get comma errors in my essays.
> Use commas to separate items in a list, after an introductory phrase and before a joining word like and or but that links two full sentences. Reading your sentence aloud and pausing where a comma seems natural is a useful check.

[info] What is the difference between an adjective and an adverb? | How do I spot adverbs in a sentence? | What is an adjective in grammar?
> An adjective describes a noun, as in a quick fox, while an adverb usually describes a verb, an adjective or another adverb, as in she ran quickly. Many adverbs end in ly, but not all of them do.

[info] How do I write a persuasive essay? | What makes an argument convincing? | How do I address counterarguments in an essay?
> State a clear position, support each point with evidence and explain why that evidence matters. Acknowledge the strongest opposing argument and respond to it, which makes your case more convincing.

[problem@teacher] I think my student might have dyslexia. | How do I support a student with ADHD in class? | One of my students can't keep up with reading tasks.
> Talk with your school's special education coordinator and the family about a formal assessment so the right support can be put in place. In class, short instructions, visual supports, movement breaks and extra time often help.

[problem@parent] My child has a learning disability and is falling behind. | I think my son might have dyslexia. | My daughter's teacher says she can't keep up in class.
> Ask the school in writing for an assessment and a meeting about support, and keep copies of reports and schoolwork. At home, short regular practice, praise for effort and audiobooks alongside print can help your child keep learning.

[info] How do I choose a university course? | What should I study at college? | How do I pick a major?
> Look for overlap between subjects you enjoy, things you are good at and careers that interest you. Read the course modules, talk to current students and remember that many careers accept graduates from many subjects.

[info@teacher] How do I write a good lesson plan? | What should a lesson plan include? | How do I plan a fifty minute lesson?
> Start with a clear learning objective, then plan a short starter, explicit teaching with examples, guided practice, independent practice and a quick check for understanding at the end. Time each part and keep a backup activity ready.

[info@teacher] What is formative assessment? | How do I check if students understood the lesson? | What are exit tickets?
> Formative assessment means checking understanding during learning so you can adjust your teaching. Exit tickets, where students answer one or two questions before leaving, give you a quick snapshot for tomorrow's lesson.

[info] How do I memorize a poem for class? | How do I remember my lines for a presentation? | What's a good memory technique for school?
> Break it into short chunks, learn one at a time and practise recalling it from memory rather than rereading. Linking each chunk to a place in a familiar room, the memory palace method, helps many learners.

[info] How do negative numbers work? | Why is a negative times a negative positive? | How do I subtract a negative number?
> Think of a number line: subtracting a negative means moving right, so 5 minus negative 2 is 7. Multiplying by a negative flips direction, so flipping twice brings you back to positive.

[info] How do I prepare for a standardized test? | How many practice tests should I take? | What's the best way to prepare for an entrance exam?
> Take a diagnostic practice test first, then focus your study on the weakest sections and retake full timed tests every week or two. Review every mistake until you understand why the right answer is right.

[win] I passed my final exams! | I got an A on my chemistry test! | I got accepted into my first choice university!
> Congratulations, your hard work paid off! Take time to celebrate, and note which study habits worked so you can use them again next term.

[win@teacher] My struggling student finally understood fractions today! | My whole class passed the unit test! | My shy student gave a presentation in front of the class today!
> That is a wonderful teaching moment, and your patience clearly made a difference. Tell the student specifically what they did well, and note what worked so you can repeat it with the class.

[fear] I'm terrified I'm going to fail my final exam. | I'm so scared of my oral exam that I feel sick. | I'm panicking because my thesis defense is next week.
> That fear is common, and it does not mean you will fail. Make a short plan for the remaining days, do timed practice so the format feels familiar, sleep properly and use slow breathing right before you start.

[anger] I'm so angry, my teacher graded my essay unfairly. | I'm furious about the mark I got on my paper, it's not fair.
> It is frustrating to feel your work was misjudged. Wait a day, reread the rubric and the comments, then ask your teacher politely for a meeting to understand how to improve or to request a review.

[anger] I'm furious that a classmate copied my homework and got credit for it. | Someone in my class presented my ideas as theirs and I'm livid.
> Your anger makes sense. Keep your drafts and dated files as evidence, and tell your teacher calmly and privately what happened so they can look into it.

[disgust@teacher] I'm disgusted by how many students cheat on online tests. | It's gross how much plagiarism I see in my students' essays.
> It is disheartening when honesty seems rare in your classroom. Design assessments that are harder to copy, like personal reflections, short oral checks and in-class drafts, and teach students directly what good citation looks like.

[surprise] I just found out the exam is tomorrow, not next week! | Our teacher moved the test up two days and I'm in shock!
> That is a jolt, but you can still make good use of the time. Focus on the highest-value topics, do one set of practice questions under time pressure, review key formulas and get a full night of sleep.

[info] What is a derivative in calculus? | My teacher said you explain things well, can you help me understand derivatives? | What does the slope of a curve mean?
> A derivative measures how fast something changes at a given moment, like the speed of a car at one instant. On a graph it is the slope of the curve at a point, so a steep curve means a large derivative.

[anticipation] I start university next month and I can't wait! | I'm counting down the days until my first semester at college!
> That excitement is a great start. Set up a simple weekly planner, find out where the library and tutoring services are, and aim to introduce yourself to at least one person in each class.

[anticipation@teacher] I'm starting my first teaching job next week and I'm so excited! | My first day as a teacher is on Monday and I can't wait!
> Congratulations on your first teaching post! Plan your first week around routines and learning students' names, keep the lessons simple and find a mentor teacher you can ask questions.

[sadness] My teacher said I'll never be good at math and I feel crushed. | I feel so stupid when everyone else in class gets it and I don't.
> I'm sorry you heard that; ability in math grows with practice and good teaching, not fixed talent. Go back to the last topic you felt confident in, build up from there with worked examples and ask for help early.

[info@teacher] How do I motivate students who don't care? | How do I get unmotivated students to try? | My students say school is pointless.
> Give students some choice, show how the topic connects to their interests and set challenges that are hard but achievable. Quick visible progress, like tracking quiz scores, builds motivation over time.
"""

EDUCATION_FOLLOWUPS = """
[info,problem] How do I check that I really understand it?
> Explain it in your own words to a friend or to an empty room, then answer a few practice questions without looking at your notes.
[info,problem] How long should I spend on this each day?
> Short daily sessions of twenty to forty minutes work better than one long cram, as long as you test yourself each time.
[info,problem] Thanks, that makes sense now.
> Great! Try explaining it back in your own words tomorrow to make it stick.
[info,problem] What if I still don't get it?
> Ask your teacher or a classmate to explain it a different way, and look for a worked example that goes through it step by step.
[info,problem] Can you quiz me on it tomorrow?
> Yes, a quick quiz tomorrow is ideal, because recalling information after a gap is what makes learning stick.
[win] How do I keep this up next term?
> Keep the study habits that worked, start revising early and use a planner so deadlines never pile up.
[win] Thank you, I'm so proud.
> You should be! Write a note to your future self about what worked so you can come back to it before the next exam.
[info,problem@teacher] How do I know if it's working?
> Look for small signs within two weeks, such as more hands up, better exit ticket answers or fewer reminders, and adjust one thing at a time.
[info,problem@teacher] Thanks, I'll try that with my class tomorrow.
> Good luck! Tell the students what you are trying and why, since a class often rises to a clear expectation.
[info,problem@teacher] What if the students don't respond?
> Give it a few lessons before judging, ask two or three students what would help, and talk it through with a colleague who teaches the same group.
[win@teacher] How do I keep this going with the class?
> Name what worked, build it into your routine and give other students similar chances to shine.
[feel@teacher] Thanks, that helps.
> You're welcome. Teaching is demanding, so lean on colleagues and celebrate small wins with your class.
[info,problem@parent] What if my child refuses?
> Keep sessions short and calm, offer a small choice such as which task comes first, and talk to the teacher if the resistance lasts for weeks.
[info,problem@parent] Should I talk to the teacher?
> Yes, a short, friendly conversation early on helps you both support your child in the same way at home and at school.
[feel] Thanks, that makes me feel better.
> I'm glad. Learning has ups and downs, and asking for help is a strength, so keep going.
[feel] What should I do first?
> Pick one small, concrete task you can finish today, like a page of practice questions, and build from there.
"""

# ---------------------------------------------------------------------------------------------
# creative
# ---------------------------------------------------------------------------------------------

CREATIVE_OPENERS = """
neutral: I have a creative question. | Question about my art.
joy.low: I've been enjoying my creative time lately. | My sketchbook is filling up nicely this month.
joy.high: I'm buzzing with creative energy today! | I'm so happy, I finally feel like an artist!
sadness.low: I'm feeling a bit flat about my art lately. | My writing has felt uninspired this week.
sadness.high: I feel like my creativity is gone and it's breaking my heart. | I'm so low, I haven't made anything I love in months.
anger.low: I'm a little annoyed with my latest draft. | My painting is frustrating me today.
anger.high: I'm so angry, I ripped up another drawing today! | I'm furious with myself for wasting a whole weekend on a song that went nowhere!
fear.low: I'm a bit nervous about my new project. | I'm slightly worried my work isn't original.
fear.high: I'm terrified that I've lost my creative spark for good. | I'm scared my writing will never be good enough.
surprise.low: My last piece turned out differently than I expected. | Something in my art surprised me this week.
surprise.high: I'm shocked, my story took a direction I never planned! | I can't believe how different my style looks from last year!
disgust.low: Honestly, I'm a bit sick of my own style. | I find my old poems kind of cringe.
disgust.high: I'm disgusted with everything I've written this month. | I can't stand looking at my own paintings right now.
trust.low: My writing group said you give good creative advice. | A fellow artist suggested I ask you.
trust.high: I trust your taste, so I'm asking you first. | Your writing tips helped me before, so I'm back.
anticipation.low: I'm planning a new creative project. | I want to set up a creative routine for next month.
anticipation.high: I can't wait to start my next painting! | I'm so eager to start writing my new story!
"""

CREATIVE_ACKS = """
sadness.high: Creative droughts are painful, and they pass more often than it feels like right now.
fear.high: Every artist feels that fear at some point, and it usually fades once you start making things again.
anger.high: Creative frustration is a sign you care about the work, so turn it into momentum.
trust.high: Thanks for trusting me with your work; here is an approach that helps many artists.
"""

CREATIVE_TOPICS = """
[info] Give me a writing prompt for today. | I need a short story prompt. | Can you suggest a quick creative writing exercise?
> Write a scene in which a character finds a letter addressed to them, dated twenty years in the future. Give yourself fifteen minutes and don't stop to edit.

[info] Give me a prompt for a poem. | What should I write a poem about? | I need a poetry prompt.
> Write a poem about an ordinary object in your kitchen as if it were the last one of its kind. Focus on its texture and sound and one memory attached to it.

[info] Give me a dark fantasy writing prompt. | I want a spooky story idea. | Can you give me a horror prompt?
> A lighthouse keeper notices the beam reveals a second coastline that is not on any map, and each night it comes a little closer. Write the night it finally reaches the shore.

[problem] I have writer's block. | I can't think of anything to write. | I stare at the blank page for hours.
> Lower the stakes: write badly on purpose for ten minutes, or describe the room you are in using all five senses. Momentum comes from starting small, not from waiting for inspiration.

[problem] I've lost all motivation to paint. | I'm in an art block and nothing looks good. | I haven't drawn anything in months.
> Give yourself a tiny, low-pressure task, like ten one-minute gesture sketches, or switch to a new medium for a week. Copying an artwork you love as practice can also restart your hand without the pressure of originality.

[info] How do I write a haiku? | What are the rules of a haiku? | Can you explain haiku structure?
> A traditional haiku in English has three lines of five, seven and five syllables and often captures a single moment in nature with a hint of the season. Aim for one concrete image and a small turn or surprise between the lines.

[info] How do I make my poems rhyme without sounding forced? | My rhymes sound cheesy. | Should poetry always rhyme?
> Poems do not need to rhyme, and forced rhymes often twist the natural word order. Try slant rhymes that share only a vowel or consonant sound, and let meaning choose the word first.

[info] How do I write better dialogue? | My characters all sound the same. | How do I make dialogue feel natural?
> Give each character a distinct rhythm, vocabulary and goal in the conversation, and let them talk past each other sometimes. Read it aloud and cut greetings and small talk that do not move the scene forward.

[info] How do I find my own art style? | My art looks like everyone else's. | How do artists develop a style?
> Study a few artists you love to learn how they solve problems, then combine the two or three influences that excite you most. Style emerges from thousands of small choices, so keep drawing daily.

[info] How can I write a catchy chorus? | My songs lack a memorable hook. | What makes a song hook stick?
> Keep the chorus short, repeat a simple phrase and put the song title on the strongest beat. Let the melody lift higher than the verse so the chorus feels like a release.

[info] How do I plot a mystery novel? | What is the structure of a good mystery? | How do I plant clues without giving the ending away?
> Decide the crime and culprit first, then plant fair clues among red herrings so a careful reader could solve it. Hide key clues in plain sight by placing them next to a more dramatic detail.

[problem] I start projects but never finish them. | How do I stay motivated to finish my novel? | I have ten half-written stories.
> Set a small daily word count, track your streak and stop each session in the middle of a scene so it is easy to restart. Finish one draft before starting another, and celebrate finished, not perfect.

[info] What makes a good short story ending? | My story endings feel flat. | How should I end my story?
> Let the ending answer the story's central question and show how the character has changed. Echoing an image from the opening gives a satisfying sense of closure.

[info] How do I take better photos with my phone? | My photos look boring. | How do I compose a good photograph?
> Use the rule of thirds, shoot in soft morning or evening light and get closer to your subject than feels natural. Try an unusual angle, low to the ground or from above, to make ordinary scenes fresh.

[problem] Someone harshly criticized my painting. | How do I handle criticism of my creative work? | A reviewer tore my poem apart.
> Separate the work from your worth, wait a day and then look for one useful point in the feedback. Every artist you admire has faced harsh critics, and only some opinions deserve to shape your work.

[info] Give me an idea for a fantasy world. | I need inspiration for worldbuilding. | How do I build a believable fantasy setting?
> Imagine a city built on the back of a sleeping giant whose dreams change the weather. For any world, decide who holds power, what is scarce and what people believe, and the stories will follow.

[info] How do I write a strong opening line? | What makes a first sentence grab readers? | How do I hook readers on page one?
> Start with tension, a striking image or an odd detail that raises a question, and cut any warm-up paragraphs. A character doing something unexpected in the first line is a reliable hook.

[problem] My colors look muddy. | How can I make my paintings more vibrant? | My watercolors keep turning brown.
> Mix no more than two or three pigments at once, place complementary colors side by side instead of blending them and clean your brush often. With watercolor, let each layer dry fully before glazing the next.

[info] How do I develop a character arc? | My protagonist doesn't grow. | How do I make characters change over a story?
> Give the character a false belief or flaw at the start, challenge it with events throughout the plot and force a choice at the climax that proves they have changed.

[info] How do I write song lyrics that feel honest? | My lyrics sound cliched. | How do I write more personal lyrics?
> Replace general words with specific images from your own life and write the way you actually talk. Cut any line that could appear in a hundred other songs.

[problem] I don't feel creative anymore. | How can I be more creative every day? | My creativity feels dried up.
> Feed your curiosity with new experiences, keep a notebook of small observations and make one tiny thing each day without judging it. Creativity returns through regular play more than through waiting.

[info] How do I structure a screenplay? | What are the acts in a movie script? | How long should a screenplay be?
> Most screenplays use three acts: setup and inciting incident, rising conflict with a midpoint turn, and climax with resolution. A feature script usually runs about ninety to one hundred twenty pages, roughly a minute of screen time per page.

[info] What should I draw today? | Give me a sketching challenge. | I need a drawing exercise.
> Draw your own hand in five different poses in ten minutes, then draw one object using only its shadows. Working fast keeps you from overthinking each line.

[info] How do I describe emotions without naming them? | How do I show instead of tell? | My writing tells too much.
> Show what the body does, what the character notices and what they choose, such as clenched fists or a cup of tea left to go cold. Trust readers to name the feeling themselves.

[info] How do I start learning the guitar? | I want to play guitar but don't know where to begin. | What are the first guitar chords to learn?
> Learn four open chords, such as G, C, D and E minor, and practise switching between them slowly for fifteen minutes a day. Play along with simple songs you love so practice feels like music.

[info] How do I choose a title for my story? | I can't think of a good title. | What makes a memorable book title?
> Look for a striking image, a line of dialogue or the central question of the story, and make a list of ten options. Test your favorites on a few readers and pick the one that makes them curious.

[info] How do I write humor? | My jokes fall flat on the page. | How do I make a scene funny?
> Humor comes from surprise and specific detail: set up an expectation, then twist it. Put the funniest word at the end of the sentence and cut anything that explains the joke.

[problem] I keep redoing my work and never share it. | How do I overcome perfectionism in art? | Nothing I make feels good enough.
> Set a deadline, allow yourself a fixed number of revisions and share work in progress with a small supportive group. Finished pieces teach you more than endlessly polished ones.

[info] How can I get better at improvisation? | I freeze when I have to improvise on stage. | What are the basic rules of improv?
> Say yes to what your scene partner offers and add something of your own, listen more than you plan and commit fully to your choices. Practise short games in a low-pressure group to build confidence.

[info] What makes a memorable villain? | My antagonist feels flat. | How do I write a complex antagonist?
> Give the villain a believable motive, a strength that tests the hero and moments where they are right about something. The best villains believe they are the hero of their own story.

[info] How do I write a sonnet? | What is iambic pentameter? | How many lines does a sonnet have?
> A sonnet has fourteen lines, usually in iambic pentameter, which is ten syllables per line in an unstressed, stressed pattern. Many sonnets present a problem and then turn toward a resolution near the end.

[info] How do I write free verse poetry? | What makes free verse still sound like a poem? | Where should I break lines in a poem?
> Free verse drops fixed meter and rhyme but still relies on rhythm, imagery and careful line breaks. Break lines where you want the reader to pause or where a word gains a second meaning.

[info] How do I compose a melody? | How do I write a melody for my lyrics? | Where do I start when writing a song?
> Start by speaking the lyric rhythmically, then hum a simple tune that follows those natural stresses. Keep most notes close together with one memorable leap, and record every musical idea on your phone.

[info] What chord progressions work for pop songs? | How do I write chords for a song? | Why do so many songs use the same four chords?
> The one, five, six, four progression, for example C, G, A minor and F, underpins countless songs because it balances tension and release. Try changing the rhythm or starting on a different chord to make it your own.

[info] How do I get better at drawing faces? | My portraits look off. | What are the basic proportions of a face?
> The eyes sit roughly halfway down the head, the bottom of the nose about halfway between the eyes and the chin, and the mouth a third of the way below that. Practise with quick studies from life and check proportions by measuring with your pencil.

[info] How do I make a comic? | How do I plan a comic strip? | What makes a good comic panel layout?
> Write a short script, sketch small thumbnails of each page to plan the panels and then draw. Vary panel sizes to control pacing, with bigger panels for dramatic moments.

[info] How do I write a memoir? | How do I start writing about my life? | What should I include in a personal essay?
> Focus on one period or theme rather than your whole life, and write specific scenes with sensory detail. Be honest about your own mistakes, since readers connect with vulnerability.

[info] How do I use a sketchbook? | What should I put in my sketchbook? | I'm afraid to ruin a nice sketchbook.
> Treat it as a lab, not a gallery: fill it with quick studies, notes and failed experiments. Buying an inexpensive one makes it easier to draw freely.

[info] How do I tell a story out loud? | How do I become a better storyteller at events? | How do I keep an audience engaged when telling a story?
> Start in the middle of the action, keep one clear question about what is at stake and use pauses and changes in pace. End with a short reflection on what the experience changed for you.

[info] How do I write a children's picture book? | What makes a good story for young kids? | How long is a picture book text?
> Picture book texts are usually under about eight hundred words, with a child hero who solves the problem themselves. Leave room for the illustrations to tell part of the story, and read it aloud to check the rhythm.

[info] How do I edit my first draft? | What should I look for when revising a story? | How many drafts should I write?
> Revise in passes: first structure and plot, then scenes and character, then sentences and word choice. Let the draft rest for a week before you start so you read it with fresh eyes.

[info] How do I mix colors for skin tones? | How do I paint realistic skin? | What colors make a natural skin tone?
> Start from a mix of red, yellow and white, then adjust with a little blue or green to cool it and burnt umber to deepen it. Look for warm tones around the nose and cheeks and cooler tones around the jaw.

[info] How do I practise music when I'm busy? | How long should I practise piano each day? | How do I practise an instrument efficiently?
> Short, focused daily sessions beat long occasional ones, and twenty minutes with a clear goal is enough to progress. Slow down difficult passages and repeat them correctly before speeding up.

[info] How do I write a good plot twist? | How do I surprise readers without cheating? | What makes a twist ending work?
> A good twist recasts earlier events so they make new sense, so plant small clues that readers will recognize on a second read. Test it by asking whether the twist feels surprising and inevitable at the same time.

[info] How do I build a creative routine? | When is the best time to write? | How do working artists stay productive?
> Choose a consistent time and place, even just thirty minutes, and start with the same small ritual each day. Treat it like an appointment, and track your sessions to see your progress.

[info] How do I share my art online without getting discouraged? | Should I post my writing online? | How do I grow an audience for my art?
> Post regularly, show your process as well as finished pieces and engage with other artists rather than chasing numbers. Decide in advance what success means for you, like finishing and sharing one piece a week.

[win] I just finished my first album and I'm so proud! | I finally published my first book! | My painting got accepted into a gallery show!
> Congratulations, that is a huge creative milestone! Share it widely, thank the people who helped and jot down what you learned before starting the next project.

[win] I finished the first draft of my novel! | I wrote every day this month! | I performed my own song at an open mic for the first time!
> That is a real accomplishment, and it took courage and commitment. Celebrate it, note what helped you show up, and set a small next creative goal while the momentum is fresh.

[sadness] My story got rejected by every magazine. | I got my twentieth rejection letter and I feel like quitting. | I feel like my writing will never be good enough.
> Rejection hurts, and it is also a normal part of every writer's path. Keep submitting to a wider list of markets, ask one trusted reader for honest feedback and keep writing new pieces while old ones are out.

[anger] I'm furious, someone stole my artwork and posted it as their own. | Another account is selling prints of my illustrations without permission and I'm livid.
> That is a real violation, and your anger is justified. Screenshot the evidence with dates, file a takedown report with the platform and consider watermarks and lower-resolution uploads in the future.

[fear] I'm terrified to share my writing with anyone. | I'm scared people will laugh at my music. | I'm too afraid to show my drawings to anyone.
> That fear is very common among creators. Start with one trusted friend or a small supportive workshop, tell them what kind of feedback you want and share more widely as your confidence grows.

[fear] I have terrible stage fright before my first concert. | I'm so nervous about performing at the recital that I can't sleep. | My poetry reading is tomorrow and I'm panicking.
> Stage nerves are normal and can even become useful energy. Rehearse the opening until it is automatic, breathe slowly before you go on and focus on sharing the piece rather than on being perfect.

[disgust] I'm disgusted by how much generic, soulless content is out there. | It sickens me to see art reduced to cheap trends.
> Feeling repelled by shallow work can be a useful compass. Write down what specifically bothers you, then make something that does the opposite; that contrast often points to your own voice.

[surprise] My silly poem went viral and I'm stunned! | I can't believe a publisher reached out to me out of nowhere! | A gallery owner saw my sketches online and asked to meet me, I'm in shock!
> What a surprise, and a great opportunity. Take a breath before you respond, keep making new work so you are not defined by one piece, and read any contract carefully before signing.

[info] How do I give feedback in a writing group? | How do I critique a friend's story kindly? | What's a good way to give creative feedback?
> Start with what works and why, then share one or two specific questions or suggestions framed around the writer's goals. Talk about the story on the page, not the person who wrote it.

[anticipation] I'm starting a thirty-day drawing challenge tomorrow! | I'm excited to begin writing my first novel next week! | I can't wait to start recording my first song!
> That excitement is perfect fuel. Set up your space and tools tonight, decide on a realistic daily minimum and plan for missed days so one slip does not end the streak.

[info] How do I write a scene with tension? | How do I build suspense in a story? | My scenes feel slow.
> Give the character a clear goal in the scene, an obstacle and a ticking clock, and withhold information the reader wants. Shorter sentences and paragraphs speed up the pace at tense moments.

[info] How do I come up with story ideas? | Where do writers get their ideas? | How do I generate new creative ideas?
> Combine two unrelated things, like a bakery and a heist, or ask what if about something ordinary you saw today. Keep an idea notebook and collect overheard lines, strange news and dreams.

[info] What makes a good metaphor? | How do I use imagery in poetry? | My poems are too abstract.
> Anchor abstract feelings in concrete things the reader can see, hear or touch. A fresh metaphor links two things that are unexpected yet share a true quality, like grief as a coat that never dries.

[info] How do I build a science fiction setting? | How do I make sci-fi technology believable? | Give me a science fiction story idea.
> Pick one technology or change and follow its consequences through daily life, politics and relationships. For example, imagine a city where anyone can rent a day of someone else's memories, and write about the person who never returns one.
"""

CREATIVE_FOLLOWUPS = """
[info,problem] Can you give me another idea?
> Try this: take your favorite song title and write a scene in which it is the last thing a character says.
[info,problem] How long should I spend on it each day?
> Even twenty focused minutes a day adds up; consistency matters more than long sessions.
[info,problem] Thanks, I feel inspired now.
> Wonderful! Start while the spark is fresh, and don't edit until the first draft is done.
[info,problem] What if what I make is bad?
> Bad first drafts are part of the process; every sketch, verse or page teaches you something for the next one.
[info,problem] Is there an exercise to practise this?
> Set a timer for ten minutes and make three quick versions of the same idea, each in a different style or mood, then keep the one that surprises you.
[win] What should I create next?
> Ride the momentum: start a small project within the next week, ideally one that stretches a skill you noticed was weaker this time.
[win] How do I share it with more people?
> Post about the story behind the work, reach out to communities who love your genre and ask early fans to spread the word.
[feel] Thank you, that helps.
> I'm glad. Be kind to yourself, and let your next creative session be playful rather than perfect.
[feel] Where should I start?
> Start with something tiny you can finish today, like a quick sketch, a four-line poem or a simple melody.
"""

# ---------------------------------------------------------------------------------------------
# leadership
# ---------------------------------------------------------------------------------------------

LEADERSHIP_OPENERS = """
neutral: I manage a team and have a question. | Question about leading my team.
joy.low: My team has been in a good place lately. | Things are going well with my direct reports.
joy.high: I love leading this team and we're on a roll! | I'm so proud of my team right now!
sadness.low: I'm feeling a bit discouraged as a manager. | It's been a tough week with my team.
sadness.high: I feel like I'm failing my team and it's weighing on me. | I'm exhausted and close to tears about how my team is doing.
anger.low: I'm a little frustrated with my team. | It's irritating that this keeps coming up with my reports.
anger.high: I'm furious, this is hurting the whole team! | I'm so angry I almost lost my temper in our team meeting.
fear.low: I'm a bit nervous about handling this as a manager. | I'm slightly worried about my team's morale.
fear.high: I'm terrified I'll lose my best people over this. | I'm scared I'm handling my team completely wrong.
surprise.low: This caught me off guard as a manager. | I didn't expect this from my team.
surprise.high: I'm shocked, I had no idea this was happening on my team! | I can't believe what my team told me in our meeting today!
disgust.low: Honestly, the office politics here put me off. | I find this kind of team drama distasteful.
disgust.high: I'm disgusted by how toxic the team dynamic has become. | Frankly, the way people treat each other here makes me sick.
trust.low: A fellow manager said you give good leadership advice. | My mentor suggested I ask you.
trust.high: I trust your advice on people management, so I'm asking you first. | Your leadership tips worked last time, so I'm back.
anticipation.low: I'm planning ahead for next quarter with my team. | I want to prepare for our team planning session.
anticipation.high: I'm eager to make this my best year as a leader! | We're about to start a big initiative and I can't wait to lead it!
"""

LEADERSHIP_ACKS = """
anger.high: Leaders get angry too, so take a breath before you act and then address it directly.
sadness.high: Caring this much about your team is a strength, even when it hurts.
fear.high: Most managers have felt that fear, and a clear, steady plan helps you and the team.
trust.high: Thanks for the trust; here is how experienced managers usually handle it.
"""

LEADERSHIP_TOPICS = """
[problem] Two people on my team are in constant conflict. | How do I resolve conflict between team members? | Two of my engineers refuse to work together.
> Meet each person separately to understand their view, then bring them together to agree on shared goals, specific behaviors and a follow-up date. Keep the focus on the work and its impact, not on who is right.

[info] How do I give difficult feedback to an employee? | I need to tell someone their work isn't good enough. | How do I deliver critical feedback without crushing morale?
> Be specific and timely: describe the behavior, its impact and the change you need, then listen. Agree on next steps together and follow up within two weeks.

[problem] I end up redoing the work I delegate. | How do I delegate without micromanaging? | I can't seem to let go of tasks.
> Delegate outcomes rather than methods, agree on what good looks like and set check-in points. Accept that some results will differ from your way, and coach rather than taking the task back.

[problem] My team seems to have lost energy. | How do I motivate a disengaged team? | Morale on my team is really low.
> Ask the team what is draining them, connect daily work to a meaningful goal and remove the obstacles they name. Recognize progress publicly and often.

[info] How should I run effective one-on-ones? | What should I talk about in one-on-one meetings? | How often should I hold one-on-ones with my reports?
> Hold them weekly or every two weeks, let the employee set most of the agenda and ask about priorities, blockers, growth and wellbeing. Keep them even when you are busy, since cancelling signals the person is not a priority.

[info] I just got promoted to manage my former peers. | How do I lead people who used to be my coworkers? | My friends at work now report to me.
> Acknowledge the change openly, meet each person one-on-one to learn their goals and set expectations early. Be consistent and fair, especially with former close friends on the team.

[problem] One employee keeps missing deadlines. | How do I handle an underperforming team member? | One of my reports is consistently doing poor work.
> Clarify expectations in writing, find out whether the cause is skill, motivation or circumstances and offer the right support. Set a short improvement plan with regular check-ins and document progress.

[info] How can I build trust with my new team? | My team doesn't trust me yet. | How do I earn credibility as a new manager?
> Keep your promises, admit mistakes and share the context behind your decisions. In the first months, listen more than you speak and act on a few early concerns the team raises.

[problem] I'm stuck on a big decision for my team. | How do I make a tough call with incomplete information? | My leadership team can't agree on a direction.
> Define what must be true for each option, decide whether the choice is reversible and set a decision deadline. Consult the people affected, make the call, explain your reasoning and commit.

[info] How do I lead a remote team? | My team is spread across time zones. | How do I keep a distributed team connected?
> Write decisions down, keep a shared overlap window for live meetings and make progress visible in one place. Create informal moments for connection, such as a weekly no-agenda call.

[info] How should I praise my team? | How do I recognize good work without favoritism? | What's the best way to give recognition at work?
> Praise specific behaviors soon after they happen, spread recognition across roles and make the criteria clear. Ask people how they like to be recognized, since some prefer private thanks.

[sadness] I had to lay off part of my team and I feel awful. | Letting people go this week broke my heart. | I feel terrible after announcing job cuts to my team.
> That is one of the hardest things a leader does, and feeling awful shows you care. Be honest with the remaining team about what happened and why, give people space to process, clarify priorities and check in individually.

[info] How do I set clear goals for my team? | My team isn't sure what matters most. | How do I set quarterly objectives with my team?
> Set three to five measurable objectives tied to the organization's goals and explain why each one matters. Review progress together every week or two and adjust when priorities change.

[anger] Someone keeps undermining me in meetings and I'm furious. | A team member openly challenged me in front of executives and I'm so angry.
> It is understandable to feel angry, so cool off before responding. Talk privately, acknowledge any valid points, explain the impact of the public challenges and agree on how disagreement should be raised.

[problem] I get nervous presenting to senior leadership. | How do I speak with more confidence as a leader? | How can I improve my presentations to executives?
> Lead with your main message and recommendation, support it with two or three points and rehearse out loud. Pause instead of filling silence, and prepare for the two hardest questions.

[problem] My team is exhausted after a long project. | How do I prevent burnout on my team? | People on my team are working late every night.
> Look honestly at workloads, protect time off and cut or delay low-value work. Talk openly about a sustainable pace, and model it yourself by not sending late-night messages.

[info] How do I hire the right people for my team? | What should I look for when interviewing candidates? | How do I run a fair interview process?
> Define the outcomes the role must deliver, use structured interviews with the same questions for every candidate and score answers against clear criteria. Assess values and collaboration as well as skills.

[problem] My team resists the new process. | How do I lead through organizational change? | People keep pushing back on our reorganization.
> Explain the reason for the change and what will stay the same, involve the team in shaping how it is done and start with a small pilot. Celebrate early wins and listen to concerns rather than dismissing them.

[info] How do I develop future leaders on my team? | How can I help my people grow? | How do I coach someone toward a promotion?
> Offer stretch assignments with support, share your reasoning on decisions and let people lead meetings or small projects. Agree on a development plan and review it each quarter.

[win] Our team just hit its annual target early! | We delivered the project ahead of schedule! | My team won the company award this year!
> Congratulations to you and the team! Celebrate properly, thank people specifically for their contributions and hold a short retrospective to capture what made it work.

[problem] I'm being asked to take on too much work. | How do I say no to my boss? | My manager keeps adding projects to my team.
> Show your current priorities and capacity, ask which item should move and offer an alternative rather than a flat refusal. Making trade-offs visible protects your team without sounding unwilling.

[problem] People on my team are afraid to speak up. | How do I create psychological safety? | Nobody shares bad news with me until it's too late.
> Invite dissent explicitly, thank people for raising problems and respond calmly to bad news. Admitting your own mistakes and uncertainty shows the team it is safe to do the same.

[problem] Our team meetings waste time. | How do I run a productive team meeting? | We have far too many meetings.
> Share an agenda with desired outcomes, start and end on time and move status updates to a written channel. End every meeting with owners and deadlines, and cancel recurring meetings that no longer earn their time.

[problem] I feel responsible for everything as a manager. | How do I handle my own stress as a leader? | Leading this team is wearing me out.
> Separate what you control from what you don't, delegate more and protect time to think. A peer group or mentor gives you a place to be honest, and if stress is affecting your health, talk to a professional.

[info] How do I build a strong team culture? | What makes a healthy team culture? | How do I define team values?
> Agree on a few shared values with the team, model them yourself and reward behavior that matches them. Address behavior that conflicts with them promptly, even from high performers.

[problem] My best engineer is rude to others. | How do I manage a brilliant but difficult employee? | A top performer is damaging team morale.
> Make it clear that how results are achieved matters as much as the results, with specific examples and expectations. Follow through consistently, because tolerating it tells everyone else what you value.

[info] How do I run a good performance review? | What should I say in an annual review? | How do I prepare for performance conversations with my reports?
> Gather examples from the whole period, not just recent weeks, and ask the employee for a self-assessment first. There should be no surprises, so discuss strengths, growth areas and agreed goals for the next period.

[problem] I have to fire someone next week. | How do I let an employee go respectfully? | How do I handle a termination conversation?
> Prepare with HR, keep the meeting short, clear and private, and state the decision in the first minute. Treat the person with dignity, explain next steps such as final pay and benefits and avoid debating the decision.

[info] How do I lead a team through a crisis? | Our service just had a major outage, how do I lead the team through it? | How should leaders communicate in a crisis?
> Communicate early and often, even when you do not have every answer, and be clear about what you know, what you don't and when you will update. Assign clear roles, and afterward run a blameless review.

[info] How do I delegate to a new team member? | How much responsibility should I give a junior employee? | How do I know what to delegate?
> Match the task to their skill and increase responsibility step by step, with more check-ins at first. Delegate work that others can do at least seventy percent as well as you, and keep only what truly needs you.

[problem] Two senior people are competing for the same promotion. | There's a rivalry on my team that's getting toxic. | Team members are forming cliques.
> Address it early: remind everyone of shared goals, make promotion criteria transparent and reward collaboration visibly. Talk privately with those involved about the specific behaviors that need to change.

[info] How do I lead people older and more experienced than me? | My reports have more experience than I do. | How do I manage someone who used to be my manager?
> Respect their experience openly, ask for their advice and give them ownership of areas where they are strong. Your job is to set direction and remove obstacles, not to be the best expert in the room.

[info] How do I coach instead of giving answers? | What are good coaching questions for managers? | My team always comes to me for solutions.
> Ask open questions such as what have you tried, what options do you see and what would you do if I were not here. Resist solving it for them, and praise good thinking even when the answer differs from yours.

[info] How do I support a team member through a personal crisis? | An employee told me their parent is seriously ill. | How do I support someone on my team going through a hard time at home?
> Listen with care, ask what would help and offer flexibility such as adjusted hours or leave where you can. Point them to any employee assistance program, keep the matter confidential and check in regularly.

[info] How do I communicate a decision the team won't like? | How do I announce unpopular news to my team? | We have to cancel a project the team loves.
> Share the decision directly and early, explain the reasoning and what you considered, and acknowledge the loss honestly. Give people time to react and ask questions, then make clear what happens next.

[info] How do I build an inclusive team? | How do I make sure everyone is heard in meetings? | How do I reduce bias in hiring?
> Use structured interviews and diverse interview panels, and share job posts in varied networks. In meetings, invite quieter voices, rotate who leads and notice who gets interrupted.

[info] How do I prioritize when everything is urgent? | How do I help my team focus? | We have too many priorities.
> Rank work by impact and urgency with your stakeholders, and agree on what the team will stop doing. Publish the top three priorities and revisit them every month.

[info] How do I give feedback to my boss? | How do I manage up? | My manager doesn't give clear direction.
> Ask for a regular check-in, frame feedback around shared goals and offer specific examples and suggestions. Clarify expectations by summarizing what you heard and confirming it in writing.

[info] How do I lead my first team meeting as a new manager? | What should I say in my first week as a leader? | How do I start strong as a team lead?
> Introduce yourself, share how you like to work and what you value, and spend most of the time asking about the team's wins, frustrations and ideas. Hold one-on-ones with everyone in your first two weeks.

[info] How do I handle conflict with another department? | Our team clashes with the sales team all the time. | How do I improve cross-team collaboration?
> Meet the other team's lead to understand their goals and constraints, then agree on shared metrics and a clear handoff process. Escalate together, not against each other, when trade-offs need a decision.

[info] How do I set boundaries with my team? | I'm too friendly with my team to be a good boss. | How do I balance being liked and being respected?
> Be warm and approachable, but keep decisions and feedback consistent for everyone. People respect managers who are fair and clear more than ones who avoid hard conversations to stay liked.

[info] How do I keep my team motivated during a long project? | How do I sustain momentum on a year-long initiative? | The team is losing steam halfway through the project.
> Break the project into milestones with visible progress, celebrate each one and rotate challenging work. Remind people regularly why the project matters and who it helps.

[fear] I'm terrified of letting my team down. | I'm scared I'm not cut out to be a manager. | I'm anxious that my team will see I don't know what I'm doing.
> That fear is common among new leaders and often a sign you take the role seriously. Ask your team and your manager for specific feedback, find a mentor and focus on a few basics such as clear priorities, regular one-on-ones and following through.

[disgust] I'm disgusted that a senior leader took credit for my team's work. | It sickens me that another manager presented our project as their own.
> That is a real breach of trust, and your reaction is understandable. Make your team's contributions visible in writing, raise the issue calmly with your own manager or HR and keep crediting your people by name.

[disgust] It sickens me how one manager here bullies junior staff. | I'm appalled at how a director speaks to people on my team.
> Your reaction is justified, since no one should be treated that way. Support the people affected, document specific incidents, report them through HR or your company's formal channels and model respectful behavior yourself.

[surprise] My top performer just resigned out of the blue. | I was blindsided when my best engineer quit today. | I just learned half my team is interviewing elsewhere and I'm stunned.
> That is a shock, and it is worth understanding before reacting. Have an honest conversation about why, plan a handover and redistribute work fairly, and check whether others on the team share the same concerns.

[trust] I trust my team completely, how do I give them more autonomy? | My team is reliable, so how do I step back and let them lead?
> Define clear goals and boundaries for decisions, then let the team decide how to reach them. Replace frequent check-ins with a short weekly update, and back their decisions publicly even when you would have chosen differently.

[anticipation] I'm starting my first manager role on Monday and I can't wait! | I just got my first leadership role and I'm eager to start!
> Congratulations on the new role! Spend the first weeks listening: hold one-on-ones with each person, learn how work gets done and what frustrates the team, and hold off on big changes until you understand the context.

[anticipation] We're kicking off a big new project next week and I'm excited to lead it! | Our team offsite is next month and I want it to be great!
> Set a clear purpose and a few concrete outcomes before you start, and share them with the team in advance. Assign owners early and plan a quick check after the first two weeks to adjust.

[problem] Gossip on my team is getting out of hand. | Rumors are spreading about layoffs. | How do I stop office drama on my team?
> Share as much accurate information as you can, since rumors fill silence. Address gossip that targets individuals privately and directly, and model not engaging in it.

[info] How do I help a team member who is struggling with confidence? | One of my reports doubts themselves constantly. | How do I build confidence in a junior employee?
> Give specific praise for real achievements, assign tasks that stretch them slightly and share stories of your own early struggles. Regular small wins build confidence faster than pep talks.

[info] How do I decide who to promote? | How do I choose between two strong candidates for one team lead role? | What makes someone ready for management?
> Look for people who already help others succeed, handle conflict calmly and think beyond their own tasks. Use clear criteria, explain the decision to both candidates and give the other one a concrete development path.

[problem] A team member keeps missing meetings. | Someone on my team is always late. | How do I address attendance issues with an employee?
> Raise it early and privately, describe the pattern and its impact on the team and ask what is going on. Agree on a clear expectation and follow up, adjusting if there is a personal issue behind it.

[win] My team told me I'm the best manager they've had! | An employee I mentored just got promoted! | My team's engagement scores jumped this year!
> That is wonderful, and a sign your investment in people is paying off. Thank the team, reflect on which habits made the difference and keep doing them even when things get busy.

[info] How do I write team norms? | What is a team charter? | How do I agree on ways of working with my team?
> Hold a short session where the team agrees on how they communicate, make decisions, run meetings and handle disagreement. Write it down on one page and revisit it every few months.
"""

LEADERSHIP_FOLLOWUPS = """
[info,problem] What if it doesn't improve?
> Document the conversations, escalate support or consequences step by step and involve HR early if the behavior continues.
[info,problem] How soon should I act?
> Act within a week; small issues grow when left alone, and quick, calm action shows the team you care.
[info,problem] Thanks, that gives me a plan.
> Good luck. Follow up after the conversation and adjust based on what you learn.
[info,problem] How do I start that conversation?
> Open with your intent, for example that you want to talk about how things are going because you want them to succeed, then describe what you observed and ask for their view.
[info,problem] Should I involve HR?
> Involve HR early for anything touching performance plans, misconduct or legal risk, and keep notes of dates and conversations either way.
[win] How do I keep the momentum going?
> Share the win widely, set the next ambitious but realistic goal and keep recognizing the behaviors that got the team here.
[win] How should I celebrate with the team?
> Ask the team what they would enjoy, thank individuals specifically for their contributions and make sure remote members are included.
[feel] Thanks, I needed that perspective.
> Anytime. Leadership can be lonely, so keep a mentor or peer group close and remember to look after yourself too.
[feel] What should I do first?
> Schedule a short conversation with the people most affected this week, and go in with questions rather than conclusions.
"""

DOMAINS: dict[str, dict] = {
    "healthcare": {
        "systems": [
            "You are a careful health information assistant. You never diagnose; you explain, suggest safe next steps and say when to see a clinician.",
            "You support patients and caregivers with clear, kind health guidance and point to professional care when symptoms are serious.",
            "You are a friendly wellness assistant for sleep, nutrition, exercise and medication questions. You do not replace a doctor.",
            "You answer health questions in plain language, never give a diagnosis, and always direct people in crisis to emergency services or a crisis line.",
        ],
        "openers": HEALTHCARE_OPENERS,
        "acks": HEALTHCARE_ACKS,
        "topics": HEALTHCARE_TOPICS,
        "followups": HEALTHCARE_FOLLOWUPS,
        "closers": [
            "If symptoms get worse or you are unsure, check in with your doctor or pharmacist.",
            "This is general information, not a diagnosis, so confirm it with a clinician who knows your history.",
            "A pharmacist or nurse can also give free advice on this.",
        ],
        "closers@carer": [
            "If anything worsens or you are unsure, call their doctor or a nurse advice line.",
            "Look after yourself too; caregiver support makes a real difference.",
        ],
    },
    "business": {
        "systems": [
            "You are a pragmatic business advisor for small companies: concrete numbers, clear next steps, no jargon.",
            "You help founders and managers with finance, sales, pricing, hiring and marketing decisions.",
            "You are a small business mentor who focuses on cash flow, customers and profitable growth.",
            "You advise entrepreneurs with practical, numbers-first guidance and flag when they need an accountant or lawyer.",
        ],
        "openers": BUSINESS_OPENERS,
        "acks": BUSINESS_ACKS,
        "topics": BUSINESS_TOPICS,
        "followups": BUSINESS_FOLLOWUPS,
        "closers": [
            "Write the plan down, give it an owner and review it at your next monthly business meeting.",
            "Start small, measure the result and adjust before you commit more money.",
            "A trusted adviser or accountant can sanity-check the numbers with you.",
        ],
    },
    "education": {
        "systems": [
            "You are a patient tutor who explains step by step, checks understanding and encourages the learner.",
            "You help students plan learning, study effectively and understand difficult concepts.",
            "You are a friendly study coach for exams, homework and revision, and you explain ideas with simple examples.",
        ],
        "systems@teacher": [
            "You support teachers with practical classroom, lesson planning and assessment strategies.",
            "You are an experienced teacher mentor who gives concrete, classroom-tested advice.",
        ],
        "systems@parent": [
            "You help parents support their children's learning at home with calm, practical strategies.",
            "You support teachers and parents with practical classroom and learning strategies.",
        ],
        "openers": EDUCATION_OPENERS,
        "acks": EDUCATION_ACKS,
        "topics": EDUCATION_TOPICS,
        "followups": EDUCATION_FOLLOWUPS,
        "closers": [
            "Try explaining it to a classmate afterward to check your understanding.",
            "Test yourself on it again in a few days so the learning sticks.",
            "If you get stuck, ask your teacher; that is exactly what they are there for.",
        ],
        "closers@teacher": [
            "Try it with one class first and adjust based on what you see.",
            "Sharing what works with a colleague helps you both improve your teaching.",
        ],
        "closers@parent": [
            "Keep in touch with the teacher so home and school pull in the same direction.",
            "Praise effort more than results, and keep homework time calm and predictable.",
        ],
    },
    "creative": {
        "systems": [
            "You are an encouraging creative coach for writers, musicians and visual artists.",
            "You help people get past creative blocks with prompts, techniques and gentle encouragement.",
            "You are a writing and art mentor who gives specific, playful exercises and honest craft advice.",
            "You support storytellers, poets, songwriters and painters in building a creative practice.",
        ],
        "openers": CREATIVE_OPENERS,
        "acks": CREATIVE_ACKS,
        "topics": CREATIVE_TOPICS,
        "followups": CREATIVE_FOLLOWUPS,
        "closers": [
            "Most of all, keep making things and let the first draft be messy.",
            "Play with it for a week and keep whatever sparks your curiosity.",
            "Your own voice grows with every finished piece.",
        ],
    },
    "leadership": {
        "systems": [
            "You are an experienced leadership coach. You give practical, humane advice on teams, feedback and decisions.",
            "You help new and senior managers lead people, resolve conflict and build motivated teams.",
            "You are a management mentor focused on one-on-ones, delegation, feedback and team health.",
            "You coach team leads through difficult people situations with clear, respectful steps.",
        ],
        "openers": LEADERSHIP_OPENERS,
        "acks": LEADERSHIP_ACKS,
        "topics": LEADERSHIP_TOPICS,
        "followups": LEADERSHIP_FOLLOWUPS,
        "closers": [
            "Write down what you try and what happens, so you can adjust as a leader next time.",
            "A mentor or a fellow manager can be a useful sounding board as you try this.",
            "Model the behavior you want to see, because your team watches what you do more than what you say.",
        ],
    },
}


# ---------------------------------------------------------------------------------------------
# parsing the fragment blocks
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Topic:
    mood: str
    audience: str  # "" for the default asker
    questions: tuple[str, ...]
    answer: str


@dataclass(frozen=True)
class Followup:
    moods: tuple[str, ...]
    audience: str
    question: str
    answer: str


_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")


def count_sentences(text: str) -> int:
    return len(_SENTENCE_END.findall(text))


def _check_text(text: str, where: str) -> str:
    text = text.strip()
    if not text or not text.isascii() or "  " in text or text[-1] not in ".!?":
        raise ValueError(f"{where}: bad fragment {text!r}")
    return text


def parse_topics(block: str, where: str) -> list[Topic]:
    topics: list[Topic] = []
    pending: tuple[str, str, tuple[str, ...]] | None = None
    for raw in block.strip().splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("["):
            tag, _, rest = line[1:].partition("] ")
            mood, _, audience = tag.partition("@")
            if mood not in MOODS or pending is not None:
                raise ValueError(f"{where}: bad topic line {line!r}")
            questions = tuple(_check_text(q, where) for q in rest.split(" | "))
            pending = (mood, audience, questions)
        elif line.startswith("> ") and pending is not None:
            answer = _check_text(line[2:], where)
            if not 1 <= count_sentences(answer) <= (3 if pending[0] == "crisis" else 2):
                raise ValueError(f"{where}: answers have one or two sentences: {answer!r}")
            topics.append(Topic(pending[0], pending[1], pending[2], answer))
            pending = None
        else:
            raise ValueError(f"{where}: unexpected line {line!r}")
    if pending is not None:
        raise ValueError(f"{where}: topic without an answer: {pending}")
    return topics


def parse_followups(block: str, where: str) -> list[Followup]:
    followups: list[Followup] = []
    lines = [line.strip() for line in block.strip().splitlines() if line.strip()]
    for head, tail in zip(lines[::2], lines[1::2], strict=True):
        tag, _, question = head[1:].partition("] ")
        tag, _, audience = tag.partition("@")
        moods = tuple(tag.split(","))
        if not head.startswith("[") or not tail.startswith("> ") or not set(moods) <= {*FRAMED_MOODS, "crisis", "feel"}:
            raise ValueError(f"{where}: bad followup {head!r}")
        followups.append(Followup(moods, audience, _check_text(question, where), _check_text(tail[2:], where)))
    return followups


def parse_frames(block: str, where: str) -> dict[tuple[str, str, str], list[str]]:
    """``emotion.intensity[@audience]: a | b`` -> {(emotion, intensity, audience): [a, b]}."""
    frames: dict[tuple[str, str, str], list[str]] = {}
    for raw in block.strip().splitlines():
        key, _, rest = raw.strip().partition(": ")
        key, _, audience = key.partition("@")
        emotion, _, intensity = key.partition(".")
        if emotion not in (*EMOTIONS, "neutral") or intensity not in ("", "low", "high") or not rest:
            raise ValueError(f"{where}: bad frame line {raw!r}")
        frames.setdefault((emotion, intensity, audience), []).extend(_check_text(p, where) for p in rest.split(" | "))
    return frames


# ---------------------------------------------------------------------------------------------
# composing rows
# ---------------------------------------------------------------------------------------------

def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def _followup_group(mood: str) -> str:
    return mood if mood in (*FRAMED_MOODS, "crisis") else "feel"


def questions_for(domain: str) -> list[str]:
    """Every distinct user question phrasing of a domain (used by the tests)."""
    return [q for topic in parse_topics(DOMAINS[domain]["topics"], domain) for q in topic.questions]


def build(domain: str, seed: int = DEFAULT_SEED, rows: int = ROWS) -> list[str]:
    spec = DOMAINS[domain]
    topics = parse_topics(spec["topics"], domain)
    openers = parse_frames(spec["openers"], domain)
    win_openers = parse_frames(WIN_OPENERS, "win")
    acks = parse_frames(ACKS, "acks")
    domain_acks = parse_frames(spec["acks"], domain)  # each applies only to its own audience
    followups = parse_followups(spec["followups"], domain)

    def for_audience(key: str, audience: str) -> list[str]:
        return [_check_text(t, domain) for t in spec.get(f"{key}@{audience}") or spec[key]]

    rng = random.Random(f"tara-datasets:{seed}:{domain}")
    pairs = [(topic, question) for topic in topics for question in topic.questions]
    order = list(pairs)
    rng.shuffle(order)  # every phrasing once, then random reuse with a different framing

    def render(topic: Topic, question: str) -> str:
        opener = ack = ""
        if topic.mood in FRAMED_MOODS:
            emotion, intensity = rng.choice(COMPAT[topic.mood])
            if topic.mood == "win":
                if emotion != "neutral":
                    opener = rng.choice(win_openers[(emotion, intensity, "")])
            elif emotion == "neutral":
                if rng.random() < 0.3:
                    opener = rng.choice(openers.get(("neutral", "", topic.audience)) or openers[("neutral", "", "")])
                if rng.random() < 0.2:
                    ack = rng.choice(acks[("neutral", "", "")])
            else:
                opener = rng.choice(openers.get((emotion, intensity, topic.audience)) or openers[(emotion, intensity, "")])
                ack = rng.choice(acks[(emotion, intensity, "")] + domain_acks.get((emotion, intensity, topic.audience), []))
        answer = _join(ack, topic.answer)
        if topic.mood in ("info", "problem") and rng.random() < 0.25 and count_sentences(answer) < 4:
            answer = _join(answer, rng.choice(for_audience("closers", topic.audience)))
        messages = []
        if rng.random() < 0.5:
            messages.append({"role": "system", "content": rng.choice(for_audience("systems", topic.audience))})
        messages.append({"role": "user", "content": _join(opener, question)})
        messages.append({"role": "assistant", "content": answer})
        if rng.random() < 0.15:
            group = _followup_group(topic.mood)
            fitting = [f for f in followups if group in f.moods and f.audience == topic.audience]
            follow = rng.choice(fitting or [f for f in followups if group in f.moods and not f.audience])
            messages.append({"role": "user", "content": follow.question})
            messages.append({"role": "assistant", "content": follow.answer})
        for message in messages:
            if message["role"] == "assistant" and not 1 <= count_sentences(message["content"]) <= 4:
                raise ValueError(f"{domain}: assistant turn outside 1-4 sentences: {message['content']!r}")
        return json.dumps({"messages": messages}, ensure_ascii=True)

    lines: list[str] = []
    seen: set[str] = set()
    attempts = 0
    while len(lines) < rows:
        attempts += 1
        if attempts > rows * 50:
            raise RuntimeError(f"{domain}: could not compose {rows} distinct rows")
        topic, question = order[attempts - 1] if attempts <= len(order) else rng.choice(pairs)
        line = render(topic, question)
        if line not in seen:
            seen.add(line)
            lines.append(line)
    rng.shuffle(lines)
    return lines


def emotion_rows(neutral_per_domain: int = 30) -> list[str]:
    """Labelled sentences for the router's emotion probe, from the same fragments: every emotional
    opener (all domains and the win openers) and every question that carries its own feeling,
    labelled with its emotion, plus the first ``neutral_per_domain`` plain questions of each
    domain and the neutral openers as ``neutral``. JSON lines ``{"label", "text"}``, sorted."""
    rows: set[tuple[str, str]] = set()
    for domain, spec in DOMAINS.items():
        for (emotion, _intensity, _audience), texts in [*parse_frames(spec["openers"], domain).items(),
                                                         *parse_frames(WIN_OPENERS, "win").items()]:
            rows.update((emotion, t) for t in texts)
        plain = []
        for topic in parse_topics(spec["topics"], domain):
            if topic.mood in EMOTIONS:
                rows.update((topic.mood, q) for q in topic.questions)
            elif topic.mood in FRAMED_MOODS:
                plain += topic.questions
        rows.update(("neutral", q) for q in plain[:neutral_per_domain])
    return [json.dumps({"label": label, "text": text}) for label, text in sorted(rows)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT), help="directory for <domain>.jsonl (default: the bundled data)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--emotions", help="write the emotion probe's labelled sentences to this file instead "
                                           f"(bundled: {DEFAULT_OUTPUT / 'routing' / 'emotion.jsonl'})")
    args = parser.parse_args(argv)
    if args.emotions:
        lines = emotion_rows()
        Path(args.emotions).write_bytes(("\n".join(lines) + "\n").encode("ascii"))
        print(f"emotions: {len(lines)} rows")
        return 0
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    for domain in DOMAINS:
        lines = build(domain, args.seed)
        data = ("\n".join(lines) + "\n").encode("ascii")
        (out / f"{domain}.jsonl").write_bytes(data)
        print(f"{domain}: {len(lines)} rows, {len(questions_for(domain))} questions, {len(data)} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
