"""Write the bundled sample datasets for the five foundation domains (deterministic).

    python trainer_image/tools/make_datasets.py [--output trainer_image/tara_trainer/data]

Every line is a chat example composed from fragments written for this project: a domain topic
(question phrasings and a practical answer), an emotional framing of the question (Plutchik's
eight emotions at low and high intensity) with an answer opening that acknowledges it, an
optional system prompt, and for some rows a second exchange. Seeded, so the output is
byte-for-byte reproducible; a test checks that the committed files match.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

ROWS = 260

# (emotion, intensity) -> (ways a user opens, ways the assistant acknowledges)
FRAMES: dict[tuple[str, str], tuple[list[str], list[str]]] = {
    ("neutral", "low"): (["", "Quick question.", "I was wondering about something."], ["", "Good question.", "Here is a practical way to look at it."]),
    ("joy", "low"): (["Things are going pretty well lately.", "I'm in a good mood today."], ["Glad to hear things are going well.", "Nice to hear that."]),
    ("joy", "high"): (["I'm so excited, this is the best news ever!", "We did it, I'm absolutely thrilled!"], ["Congratulations, that is wonderful news!", "That is fantastic, well done!"]),
    ("sadness", "low"): (["I've been feeling a bit down.", "It's been a disappointing week."], ["I'm sorry it has been a hard week.", "That sounds discouraging."]),
    ("sadness", "high"): (["I feel completely hopeless and I can't stop crying.", "Everything feels heavy and I'm heartbroken."], ["I'm really sorry you are carrying so much right now.", "That sounds very painful, and you don't have to face it alone."]),
    ("anger", "low"): (["I'm a little annoyed about this.", "This keeps bothering me."], ["That frustration makes sense.", "It is understandable to be annoyed."]),
    ("anger", "high"): (["I'm furious, this is completely unacceptable!", "I am so angry I could scream."], ["Your anger makes sense; let's focus on what you can change.", "That sounds infuriating; let's take it one step at a time."]),
    ("fear", "low"): (["I'm a bit nervous about this.", "I'm slightly worried."], ["A little nervousness is normal here.", "It is reasonable to feel unsure."]),
    ("fear", "high"): (["I'm terrified and I can't stop panicking.", "I'm really scared something is badly wrong."], ["That sounds frightening; let's slow down and look at it calmly.", "Being scared is understandable; here is what you can do right now."]),
    ("surprise", "low"): (["I was surprised to learn this.", "This caught me off guard."], ["It is a common surprise.", "Many people are surprised by that."]),
    ("surprise", "high"): (["I'm completely shocked, I never saw this coming!", "Wow, I can't believe this just happened!"], ["That is a big surprise; let's make sense of it.", "That must have been a shock."]),
    ("disgust", "low"): (["Honestly this puts me off a little.", "I find this kind of distasteful."], ["That reaction is understandable.", "It is fair to feel uneasy about it."]),
    ("disgust", "high"): (["This is revolting and I'm sick of it.", "I'm disgusted by how this was handled."], ["That sounds genuinely awful to deal with.", "Your reaction is understandable; let's find a better path."]),
    ("trust", "low"): (["A friend said you could help.", "I think you can help me with this."], ["Happy to help.", "Let's work through it together."]),
    ("trust", "high"): (["I really trust your advice on this.", "You always give me good guidance, so I'm asking you first."], ["Thank you for the trust; here is my honest view.", "I appreciate that; let's get this right."]),
    ("anticipation", "low"): (["I'm planning ahead for next month.", "I'm looking forward to getting started."], ["Planning ahead is a good move.", "Good to get ready early."]),
    ("anticipation", "high"): (["I can't wait, it starts tomorrow and I'm counting the minutes!", "I'm eagerly preparing for the big day."], ["That excitement is great; let's channel it.", "Let's make sure you are ready for it."]),
}

DOMAINS: dict[str, dict] = {
    "healthcare": {
        "systems": [
            "You are a careful health information assistant. You never diagnose; you explain, suggest safe next steps and say when to see a clinician.",
            "You support patients with clear, kind health guidance and point to professional care when symptoms are serious.",
        ],
        "topics": [
            (["How much water should I drink each day?", "Am I drinking enough water?"], "Most adults need about two to three liters of fluid a day, more in hot weather or with exercise; pale yellow urine is a good sign of hydration."),
            (["I keep forgetting to take my blood pressure pills.", "How can I remember my daily medication?"], "Take your medication at the same time each day, link it to a routine like brushing your teeth, and use a weekly pill organizer with a phone reminder."),
            (["What can I do about trouble falling asleep?", "I lie awake for hours at night."], "Keep a regular sleep schedule, avoid caffeine after noon, dim screens an hour before bed and keep the bedroom cool and dark; see a doctor if insomnia lasts over a month."),
            (["Is a headache after exercise normal?", "Why do I get headaches when I run?"], "Exercise headaches are often linked to dehydration or heat; drink water and warm up gradually, but seek care urgently for a sudden severe headache."),
            (["What are warning signs of a heart attack?", "How do I know if chest pain is serious?"], "Chest pressure, pain spreading to the arm or jaw, shortness of breath, sweating or nausea need emergency care right away; call your local emergency number."),
            (["How can I lower my cholesterol naturally?", "What diet helps high cholesterol?"], "Eat more fiber from oats, beans and vegetables, choose olive oil and fish over saturated fats, stay active most days and ask your doctor about a lipid test."),
            (["My child has a fever of 38.5 degrees, what should I do?", "When is a fever in a child dangerous?"], "Keep your child hydrated and comfortable; fever medicine dosed by weight can help, and call a doctor for a baby under three months, a stiff neck, trouble breathing or fever over three days."),
            (["How often should I get a dental checkup?", "Do I really need to see the dentist every year?"], "Most people benefit from a dental checkup and cleaning every six to twelve months; brush twice daily and floss to prevent gum disease."),
            (["What is a healthy blood sugar level?", "How do I read my glucose numbers?"], "A fasting glucose under 100 mg/dL is typical; 100 to 125 may mean prediabetes, so discuss repeat testing and an HbA1c with your doctor."),
            (["How can I manage my asthma better?", "My inhaler doesn't seem to be working."], "Use your controller inhaler daily as prescribed, check your technique with a spacer, avoid triggers like smoke, and see your clinician if you need your rescue inhaler more than twice a week."),
            (["What should I eat to have more energy?", "Why am I tired after lunch?"], "Balanced meals with protein, whole grains and vegetables release energy steadily; large sugary meals cause a slump, and persistent fatigue deserves a blood test."),
            (["Is it safe to take ibuprofen every day?", "Can I use painkillers for my back every day?"], "Daily ibuprofen can irritate the stomach and kidneys; use the lowest dose for the shortest time and talk to a pharmacist or doctor about longer term pain relief."),
            (["How can I quit smoking?", "What actually helps people stop smoking?"], "Set a quit date, use nicotine replacement or prescribed medication, tell friends for support and call a quit line; most people need several attempts, so keep going."),
            (["How much exercise do adults need?", "What is the minimum exercise for good health?"], "Aim for about 150 minutes of moderate activity a week, such as brisk walking, plus muscle strengthening twice a week."),
            (["What should I know before my first mammogram?", "Does a mammogram hurt?"], "A mammogram takes a few minutes and can feel uncomfortable from the compression; avoid deodorant that day and tell the technician about any breast changes."),
            (["How do I care for a minor burn?", "I burned my hand on the stove."], "Cool the burn under running water for twenty minutes, cover it loosely with a clean dressing and avoid ice or butter; seek care for large, deep or blistering burns."),
            (["What vaccines do adults need?", "Am I up to date on vaccinations?"], "Adults usually need a yearly flu shot, a tetanus booster every ten years and other vaccines by age and health; your clinic can check your record."),
            (["I'm waiting for biopsy results and can't think of anything else.", "How do I cope while waiting for test results?"], "Waiting is hard; ask when results will come, keep a list of questions for your doctor, and lean on someone you trust while you wait."),
            (["How can I reduce my risk of type 2 diabetes?", "Diabetes runs in my family, what can I do?"], "Losing even five percent of body weight, walking daily, cutting sugary drinks and getting regular glucose checks lowers your risk substantially."),
            (["What helps with seasonal allergies?", "My hay fever is really bad this spring."], "Antihistamines and steroid nose sprays help many people; keep windows closed on high pollen days and shower after being outdoors."),
            (["Is my mole something to worry about?", "How do I check my skin for cancer?"], "Watch for moles that are asymmetric, have irregular borders, several colors, are larger than a pencil eraser or change; have a clinician check any that do."),
            (["How do I support a parent with dementia?", "My mother is becoming forgetful and confused."], "Keep routines simple, use calendars and labels, ensure home safety and ask her doctor for an assessment; caregiver support groups help families a lot."),
            (["What is a normal resting heart rate?", "My heart rate seems high at rest."], "A resting heart rate between 60 and 100 beats per minute is typical for adults; see a doctor if it is often higher or you feel dizzy or short of breath."),
            (["How should I store my insulin?", "Does insulin need to be refrigerated?"], "Keep unopened insulin in the fridge, never freeze it, and the pen in use can stay at room temperature for about a month."),
            (["I've been thinking about hurting myself.", "Sometimes I feel like I don't want to be alive."], "I'm really glad you told me. Please contact a crisis line or emergency services now, and reach out to someone you trust; you deserve support right away."),
            (["What are symptoms of dehydration?", "How can I tell if I'm dehydrated?"], "Thirst, dark urine, headache, dizziness and fatigue are common signs; sip fluids steadily and seek care if you are confused or cannot keep fluids down."),
            (["How do I prepare for surgery next week?", "What should I ask before my operation?"], "Ask about fasting rules, which medicines to stop, how long recovery takes and who to call with problems; arrange a ride home and help for the first days."),
            (["Can stress cause stomach problems?", "My stomach hurts whenever I'm anxious."], "Stress can upset digestion; regular meals, gentle exercise and relaxation breathing help, but see a doctor for weight loss, blood or pain at night."),
            (["How much sleep does a teenager need?", "My teenager sleeps all weekend, is that normal?"], "Teenagers need about eight to ten hours of sleep; weekend catch-up sleep is common when school nights are short."),
            (["What is a healthy way to lose weight?", "I want to lose weight safely."], "Aim for about half a kilogram a week with smaller portions, more vegetables and protein, fewer sugary drinks and daily movement; crash diets rarely last."),
        ],
        "followups": [
            ("Should I see a doctor about it?", "If it lasts more than a few days, gets worse or comes with fever, severe pain or trouble breathing, yes, book an appointment or seek urgent care."),
            ("Thanks, that helps a lot.", "You're welcome. Take care of yourself, and check in with your clinician if anything changes."),
            ("Is there anything I should avoid?", "Avoid starting new supplements or medicines without checking interactions with a pharmacist, and don't ignore symptoms that worsen."),
        ],
    },
    "business": {
        "systems": [
            "You are a pragmatic business advisor for small companies: concrete numbers, clear next steps, no jargon.",
            "You help founders and managers with finance, sales, pricing and operations decisions.",
        ],
        "topics": [
            (["How should I price my consulting services?", "What hourly rate should I charge clients?"], "Start from your target annual income plus overhead, divide by realistic billable hours, then compare with market rates and consider value-based pricing for clear outcomes."),
            (["How do I improve my cash flow?", "We're profitable but always short on cash."], "Invoice immediately, shorten payment terms, offer a small discount for early payment, negotiate longer supplier terms and keep a thirteen week cash forecast."),
            (["How do I negotiate a better deal with a supplier?", "Our supplier just raised prices."], "Know your alternatives, bring volume forecasts, ask for tiered pricing or longer contracts in exchange for a lower unit price, and negotiate payment terms as well as price."),
            (["When should I hire my first employee?", "Is it time to hire help for my business?"], "Hire when recurring work consistently exceeds your capacity and the revenue it frees up covers salary plus about thirty percent for taxes and overhead."),
            (["How do I write a simple business plan?", "What goes into a business plan?"], "Cover the customer problem, your solution, target market, competitors, pricing, sales channels, a twelve month financial forecast and the funding you need."),
            (["Our biggest client wants to leave.", "How do I keep a key customer from churning?"], "Meet them quickly, ask what changed, fix the root issue with a concrete plan and timeline, and reduce dependency by growing other accounts."),
            (["What marketing works for a local bakery?", "How do I attract more customers to my shop?"], "Local search listings, photos on social media, a loyalty card, samples at community events and partnerships with nearby cafes usually pay off fastest."),
            (["How do I calculate my break-even point?", "How many units do I need to sell to cover costs?"], "Divide fixed costs by the contribution margin per unit, which is price minus variable cost per unit; that gives the units needed to break even."),
            (["Should I take a bank loan or find an investor?", "Debt or equity for growing my company?"], "A loan keeps ownership but needs steady cash flow for repayments; equity brings capital and advice but dilutes you, so match the choice to how predictable your revenue is."),
            (["How do I handle a late paying customer?", "A client hasn't paid in sixty days."], "Send a polite reminder with the invoice attached, call the payer directly, agree a payment plan if needed and pause further work until the balance is settled."),
            (["How can I increase my sales conversion rate?", "Lots of leads but few customers buy."], "Qualify leads earlier, follow up within a day, address objections with case studies and simplify the checkout or contract so buying is easy."),
            (["What metrics should a startup track?", "Which numbers matter most for my small business?"], "Track monthly revenue, gross margin, customer acquisition cost, churn, cash runway and the lifetime value of a customer."),
            (["How do I prepare for a pitch to investors?", "I have an investor meeting next week."], "Tell a short story: the problem, your traction, market size, business model, team and the ask; rehearse answers to tough questions about competition and unit economics."),
            (["I'm overwhelmed running my business alone.", "How do I stop working eighty hour weeks?"], "List your tasks, automate or outsource the low value ones, set office hours, and protect one day a week for planning instead of firefighting."),
            (["How should I respond to a bad online review?", "A customer left a one star review."], "Reply publicly within a day, thank them, acknowledge the issue without arguing, offer to fix it offline and then improve the process that failed."),
            (["How do I set sales targets for my team?", "What is a fair quota for salespeople?"], "Base targets on historical conversion rates and pipeline, make them achievable for most of the team and review them each quarter."),
            (["What should be in a contract with a freelancer?", "Do I need a contract for a contractor?"], "Define scope, deliverables, deadlines, payment terms, intellectual property ownership, confidentiality and how either side can end the agreement."),
            (["How do I know if my product has market fit?", "Are customers really wanting what we sell?"], "Look for strong retention, customers who would be very disappointed without you, organic referrals and sales cycles getting shorter."),
            (["Should I raise my prices?", "Our prices haven't changed in three years."], "If costs rose and customers rarely push back, raise prices gradually with notice and emphasise the value you deliver; test with new customers first."),
            (["How do I reduce operating costs?", "Our expenses keep growing faster than revenue."], "Review every recurring subscription, renegotiate rent and suppliers, fix waste in your biggest process and tie spending to measurable returns."),
            (["We just closed our first big enterprise deal!", "We signed our largest contract ever."], "Congratulations! Now plan onboarding carefully, assign a clear owner, confirm success criteria in writing and ask for a reference once results show."),
            (["How do I manage inventory better?", "We keep running out of our best sellers."], "Track sales velocity per product, set reorder points with safety stock and review slow movers monthly to free up cash."),
            (["What is a good gross margin?", "Is a thirty percent margin good?"], "It depends on the industry: software often exceeds seventy percent, retail is often twenty five to fifty percent; compare with peers and your fixed costs."),
            (["How do I expand into a new market?", "Should we sell in another country?"], "Validate demand with a small test, learn local regulation and taxes, find a local partner and budget for a longer sales cycle."),
            (["How do I deal with a competitor undercutting my prices?", "A rival is selling much cheaper than us."], "Avoid a price war; emphasise quality, service and reliability, target customers who value them and look for costs you can cut without hurting the product."),
            (["How can I forecast revenue for next year?", "What's a simple sales forecast method?"], "Build it bottom up from pipeline, conversion rates and average deal size, then sanity check against last year's growth and seasonality."),
            (["How do I choose an accountant?", "Do I need an accountant for a small company?"], "Look for someone who knows your industry and tax situation, agree fees up front and make sure they provide monthly reports, not just year end filings."),
            (["What's the best way to get customer feedback?", "How do I learn what clients really think?"], "Run short interviews, send a two question survey after purchase and watch how customers actually use the product."),
        ],
        "followups": [
            ("What should I do first?", "Pick the single action with the biggest effect on cash this month, put a date on it and review the result next week."),
            ("Can you give me a number to aim for?", "As a rule of thumb, keep at least three months of operating expenses in cash and aim for a gross margin above forty percent if you can."),
            ("Thanks, that is really useful.", "Glad it helps. Revisit the numbers monthly and adjust as you learn."),
        ],
    },
    "education": {
        "systems": [
            "You are a patient tutor who explains step by step, checks understanding and encourages the learner.",
            "You help students and teachers plan learning, study effectively and understand difficult concepts.",
        ],
        "topics": [
            (["How do I make a study plan for my exams?", "I have five exams in three weeks, how do I plan?"], "List each exam date and topic, split the weeks into daily blocks, rotate subjects, schedule practice tests and keep the last days for review."),
            (["Can you explain photosynthesis simply?", "What is photosynthesis?"], "Plants use sunlight to turn water and carbon dioxide into glucose for energy, releasing oxygen; it happens in the chloroplasts of leaf cells."),
            (["I freeze up during exams.", "How do I deal with exam anxiety?"], "Practice under timed conditions, breathe slowly before you start, begin with a question you know and remember that some nerves actually sharpen focus."),
            (["What is the best way to memorize vocabulary?", "How do I learn new words in a language?"], "Use spaced repetition flashcards, say words out loud in sentences and review a little every day rather than cramming."),
            (["How do fractions work?", "Why do we need a common denominator to add fractions?"], "A fraction is parts of a whole; to add them the parts must be the same size, so rewrite both with a common denominator and then add the numerators."),
            (["How can I stay focused while studying?", "I get distracted by my phone when I study."], "Put the phone in another room, study in twenty five minute blocks with short breaks and set one clear goal for each session."),
            (["How do I write a good essay introduction?", "My essay openings are weak."], "Start with a hook, give brief context and end with a clear thesis that states your main argument and how you will support it."),
            (["What is the Pythagorean theorem?", "How do I find the long side of a right triangle?"], "In a right triangle the square of the hypotenuse equals the sum of the squares of the other two sides, so c equals the square root of a squared plus b squared."),
            (["How do I help my child with reading?", "My son struggles to read at his grade level."], "Read together every day, let him choose books he enjoys, sound out words patiently and talk about the story; ask the teacher about extra support."),
            (["What is the difference between weather and climate?", "Is climate just long term weather?"], "Weather is the short term state of the atmosphere, while climate is the average pattern of weather over about thirty years or more."),
            (["How do I take better notes in lectures?", "My notes are messy and useless."], "Use a simple structure like the Cornell method, write key ideas in your own words and summarise each page within a day."),
            (["How can I make my lessons more engaging?", "My students seem bored in class."], "Open with a question or puzzle, use short activities, let students discuss in pairs and connect the topic to their lives."),
            (["What is the scientific method?", "How do scientists test ideas?"], "Ask a question, form a hypothesis, design an experiment, collect data, analyse it and draw a conclusion that others can repeat."),
            (["How do I solve linear equations?", "What does it mean to solve for x?"], "Do the same operation to both sides to isolate x: undo addition or subtraction first, then multiplication or division."),
            (["Should I study in the morning or at night?", "When is the best time to study?"], "Study when you are most alert, keep a consistent schedule and protect your sleep, because memory consolidates while you sleep."),
            (["How do I prepare for a job interview as a graduate?", "I have my first interview after university."], "Research the employer, prepare short stories of your projects using situation, task, action and result, and practise answers out loud."),
            (["How do I cite sources in a research paper?", "What citation style should I use?"], "Use the style your instructor requires, such as APA or MLA, cite every quote and paraphrase, and keep a reference list as you research."),
            (["I failed my math test and feel stupid.", "I got a terrible grade and want to give up."], "One grade does not define you; review the mistakes, find the topics that tripped you up, ask for help and practise those specifically."),
            (["How does the immune system work?", "What do white blood cells do?"], "White blood cells detect invaders, some destroy them directly and others make antibodies that remember germs so the body reacts faster next time."),
            (["How do I learn to code as a beginner?", "What programming language should I start with?"], "Start with Python, build tiny projects that interest you, practise a little every day and read other people's code."),
            (["How can I improve my handwriting?", "My teacher can't read my writing."], "Slow down, hold the pen loosely, practise letter shapes for a few minutes a day and keep letters a consistent size."),
            (["What is the water cycle?", "How does rain form?"], "Water evaporates, rises and cools into clouds by condensation, falls as precipitation and collects in rivers and oceans before evaporating again."),
            (["How do I give feedback on student writing?", "What is helpful feedback for essays?"], "Name one strength, focus on one or two priorities for improvement and give a concrete example of how to revise."),
            (["How do I balance school and a part time job?", "I work twenty hours a week and study full time."], "Plan your week in advance, use short gaps for review, tell your employer about exam periods and keep one evening free to rest."),
            (["What are good strategies for group projects?", "My group members don't do their share."], "Agree roles and deadlines in writing at the start, meet briefly each week and raise problems early with the group or teacher."),
            (["How do I understand probability?", "What does a probability of one half mean?"], "Probability measures how likely an event is, from zero impossible to one certain; one half means it happens in about half of many trials."),
            (["How can I read faster and remember more?", "I read slowly and forget what I read."], "Preview headings first, read with a question in mind, and summarise each section in a sentence; speed grows with practice."),
            (["What is the difference between mitosis and meiosis?", "Why do cells divide in two ways?"], "Mitosis makes two identical cells for growth and repair; meiosis makes four sex cells with half the chromosomes for reproduction."),
        ],
        "followups": [
            ("Can you give me an example?", "Sure: try one small problem now, check each step against the rule, and then try a slightly harder one on your own."),
            ("How long should I practise each day?", "Short, regular sessions work best: about thirty to forty five minutes a day beats one long session a week."),
            ("Thanks, I think I get it now.", "Great work! Try explaining it to someone else, which is the best test of understanding."),
        ],
    },
    "creative": {
        "systems": [
            "You are an encouraging creative coach for writers, musicians and artists. You offer prompts, techniques and honest feedback.",
            "You help people start, finish and improve creative projects with playful, concrete ideas.",
        ],
        "topics": [
            (["I have writer's block and can't start my story.", "How do I get past a blank page?"], "Lower the stakes: write a deliberately bad first paragraph, set a ten minute timer, or start in the middle of a scene with a character who wants something."),
            (["Can you give me a poetry prompt?", "I want to write a poem but need an idea."], "Write about an ordinary object in your kitchen as if it were the last one on earth, using all five senses in the first three lines."),
            (["How do I write believable dialogue?", "My characters all sound the same."], "Give each character a goal in the scene, let them interrupt and avoid saying exactly what they mean, and read the lines aloud."),
            (["How do I find my own art style?", "My drawings look like copies of other artists."], "Copy widely to learn, then combine the two or three influences you love most, and keep drawing daily; style emerges from repeated choices."),
            (["How can I write a catchy chorus?", "My songs lack a memorable hook."], "Keep the chorus short, repeat a simple phrase, put the title on the strongest beat and use a melody that jumps higher than the verse."),
            (["How do I plot a mystery novel?", "What is the structure of a good mystery?"], "Decide the crime and the culprit first, then plant fair clues and red herrings, and reveal the solution in a way the reader could have guessed."),
            (["How do I stay motivated to finish my novel?", "I start projects but never finish them."], "Set a small daily word target, track a streak, outline the next scene before you stop each day and celebrate finished drafts, not perfect ones."),
            (["What makes a good short story ending?", "My story endings feel flat."], "Let the ending answer the story's central question, show how the character has changed and echo an image from the opening."),
            (["How do I take better photos with my phone?", "My photos look boring."], "Use the rule of thirds, shoot in soft morning or evening light, get closer to your subject and try unusual angles."),
            (["How do I handle criticism of my work?", "Someone harshly criticised my painting."], "Separate the work from yourself, look for the useful point in the feedback, and remember that every artist you admire has been criticised."),
            (["Give me an idea for a fantasy world.", "I need inspiration for worldbuilding."], "Imagine a city built on the back of a sleeping giant whose dreams change the weather; ask who benefits, who is afraid and what happens if it wakes."),
            (["How do I write a strong opening line?", "What makes a first sentence grab readers?"], "Start with tension or an odd detail that raises a question, like a character doing something unexpected, and cut any warm-up sentences."),
            (["How can I make my paintings more vibrant?", "My colors look muddy."], "Mix fewer colors at once, place complementary colors side by side, clean your brush often and let layers dry before adding more."),
            (["How do I develop a character arc?", "My protagonist doesn't feel like they grow."], "Give the character a false belief at the start, challenge it through the plot and force a choice at the climax that shows the new understanding."),
            (["I just finished my first album and I'm so proud!", "I finally published my first book!"], "Congratulations, that is a huge creative milestone! Share it widely, thank the people who helped, and jot down what you learned for the next one."),
            (["How do I write song lyrics that feel honest?", "My lyrics sound cliched."], "Replace general words with specific images from your own life, write the way you talk and cut lines that any song could contain."),
            (["How can I be more creative every day?", "I don't feel creative anymore."], "Feed your curiosity with new experiences, keep a notebook of small observations and make something tiny each day without judging it."),
            (["How do I structure a screenplay?", "What are the acts in a movie script?"], "Most screenplays use three acts: setup and inciting incident, rising conflict with a midpoint twist, and a climax with resolution."),
            (["What should I draw today?", "Give me a sketching challenge."], "Draw your hand in five different poses in ten minutes, then draw one object only using its shadows."),
            (["How do I describe emotions without naming them?", "How do I show, not tell?"], "Show what the body does, what the character notices and what they choose, such as clenched fists or a cup left untouched, instead of naming the feeling."),
            (["How do I start learning the guitar?", "I want to play guitar but don't know where to begin."], "Learn four basic chords, practise switching between them slowly for fifteen minutes a day and play simple songs you love."),
            (["How do I choose a title for my story?", "I can't think of a good title."], "Look for a striking image, a line of dialogue or the central question of the story, and test a few titles on friends."),
            (["How can I turn my hobby into a creative business?", "Can I sell my crafts online?"], "Start small with a few signature pieces, photograph them well, price for your time and materials and build a following before scaling up."),
            (["How do I write humor?", "My jokes fall flat on the page."], "Humor comes from surprise and specificity: set up an expectation, then twist it, and keep the punchline at the end of the sentence."),
            (["How do I overcome perfectionism in art?", "I keep redoing my work and never share it."], "Set a deadline, limit yourself to a fixed number of revisions and share work in progress with a friendly group to build the habit."),
            (["How can I get better at improvisation?", "I freeze when I have to improvise."], "Say yes and build on what your partner offers, listen more than you plan and practise short games in a low pressure setting."),
            (["What makes a memorable villain?", "My antagonist feels flat."], "Give the villain a believable motive, a strength that tests the hero and moments where they are right about something."),
        ],
        "followups": [
            ("Can you give me another idea?", "Try this: take your favourite song title and write a scene in which it is the last thing a character says."),
            ("How long should I spend on it each day?", "Even twenty focused minutes a day adds up; consistency matters more than long sessions."),
            ("Thanks, I feel inspired now.", "Wonderful! Start while the spark is fresh, and don't edit until the first draft is done."),
        ],
    },
    "leadership": {
        "systems": [
            "You are an experienced leadership coach. You give practical, humane advice on teams, feedback and decisions.",
            "You help new and senior managers lead people, resolve conflict and build motivated teams.",
        ],
        "topics": [
            (["Two people on my team are in constant conflict.", "How do I resolve conflict between team members?"], "Meet each person separately to understand their view, then bring them together to agree on shared goals, specific behaviours and a follow up date."),
            (["How do I give difficult feedback to an employee?", "I need to tell someone their work isn't good enough."], "Be specific and timely: describe the behaviour, its impact and the change you need, then listen and agree on next steps together."),
            (["How do I delegate without micromanaging?", "I end up redoing the work I delegate."], "Delegate outcomes rather than methods, agree on what good looks like and check-in points, and accept that some results will differ from your way."),
            (["How do I motivate a disengaged team?", "My team seems to have lost energy."], "Ask what is draining them, connect daily work to a meaningful goal, recognise progress publicly and remove obstacles they name."),
            (["How should I run effective one-on-ones?", "What should I talk about in one-on-one meetings?"], "Let the employee set most of the agenda, ask about blockers, growth and wellbeing, and keep the meeting regular even when busy."),
            (["I just got promoted to manage my former peers.", "How do I lead people who used to be my coworkers?"], "Acknowledge the change openly, meet each person to learn their goals, be consistent and fair, and set expectations early."),
            (["How do I handle an underperforming team member?", "One employee keeps missing deadlines."], "Clarify expectations in writing, find out whether the cause is skill, will or circumstance, offer support and set a short improvement plan with check-ins."),
            (["How can I build trust with my new team?", "My team doesn't trust me yet."], "Keep your promises, admit mistakes, share context behind decisions and listen more than you speak in the first months."),
            (["How do I make a tough decision with incomplete information?", "I'm stuck on a big decision."], "Define what must be true for each option, decide what is reversible, set a deadline, consult the people affected and then commit clearly."),
            (["How do I lead a remote team?", "My team is spread across time zones."], "Write decisions down, keep a shared overlap window for meetings, make progress visible and create informal moments for connection."),
            (["How do I recognise good work without favouritism?", "How should I praise my team?"], "Praise specific behaviours soon after they happen, spread recognition across roles and make the criteria for recognition clear."),
            (["I had to lay off part of my team and feel awful.", "How do I support people after layoffs?"], "Be honest about what happened and why, give remaining staff space to grieve, clarify priorities and check in individually."),
            (["How do I set clear goals for my team?", "My team isn't sure what matters most."], "Set a few measurable objectives tied to the company's goals, explain why they matter and review progress together every week."),
            (["How do I handle a team member who challenges me in meetings?", "Someone keeps undermining me publicly."], "Talk privately, acknowledge valid points, explain the impact of the public challenges and agree on how to raise disagreement constructively."),
            (["How can I improve my public speaking as a leader?", "I get nervous presenting to leadership."], "Structure your talk around one message, rehearse out loud, start with a story and pause instead of filling silence."),
            (["How do I prevent burnout on my team?", "My team is exhausted after a long project."], "Watch workloads, protect time off, cut or delay low value work and talk openly about sustainable pace."),
            (["How do I hire the right people?", "What should I look for when interviewing candidates?"], "Define the outcomes the role must deliver, use structured interviews with the same questions for everyone and check for values as well as skills."),
            (["How do I lead through organisational change?", "My team resists the new process."], "Explain the reason for the change, involve the team in shaping how it is done, start small and celebrate early wins."),
            (["How do I develop future leaders on my team?", "How can I help my people grow?"], "Give stretch assignments with support, share your thinking on decisions, offer coaching and let them lead meetings or projects."),
            (["Our team just hit its annual target early!", "We delivered the project ahead of schedule."], "Congratulations to everyone! Celebrate properly, thank people specifically for their contributions and capture what made it work."),
            (["How do I say no to my boss?", "I'm asked to take on too much work."], "Show your current priorities and capacity, ask which item should move, and offer an alternative rather than a flat refusal."),
            (["How do I create psychological safety?", "People on my team are afraid to speak up."], "Invite dissent explicitly, thank people for raising problems, respond calmly to bad news and admit your own uncertainty."),
            (["How do I run a productive team meeting?", "Our meetings waste time."], "Share an agenda with desired outcomes, start and end on time, keep updates asynchronous and finish with owners and deadlines."),
            (["How do I handle my own stress as a manager?", "I feel responsible for everything."], "Separate what you control from what you don't, delegate more, protect time to think and find a peer or mentor to talk with."),
            (["How do I build a strong team culture?", "What makes a team culture healthy?"], "Agree on a few shared values, model them yourself, reward behaviour that matches them and address behaviour that doesn't."),
            (["How do I manage a high performer who is difficult?", "My best engineer is rude to others."], "Make it clear that how results are achieved matters too, give specific examples and expectations, and follow through consistently."),
        ],
        "followups": [
            ("What if it doesn't improve?", "Document the conversations, escalate support or consequences step by step, and involve HR early if the behaviour continues."),
            ("How soon should I act?", "Act within a week; small issues grow when left alone, and quick, calm action shows the team you care."),
            ("Thanks, that gives me a plan.", "Good luck. Follow up after the conversation and adjust based on what you learn."),
        ],
    },
}


def _sentence(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def build(domain: str, seed: int) -> list[str]:
    spec = DOMAINS[domain]
    rng = random.Random(f"{seed}:{domain}")
    frames = list(FRAMES.items())
    seen: set[str] = set()
    lines: list[str] = []
    attempts = 0
    while len(lines) < ROWS and attempts < ROWS * 50:
        attempts += 1
        topic_questions, answer = rng.choice(spec["topics"])
        question = rng.choice(topic_questions)
        (emotion, _intensity), (openers, acknowledgements) = rng.choice(frames)
        opener = rng.choice(openers)
        ack = rng.choice(acknowledgements)
        if emotion == "neutral" and rng.random() < 0.5:
            opener, ack = "", ""
        user = _sentence(opener, question)
        messages = []
        if rng.random() < 0.5:
            messages.append({"role": "system", "content": rng.choice(spec["systems"])})
        messages.append({"role": "user", "content": user})
        messages.append({"role": "assistant", "content": _sentence(ack, answer)})
        if rng.random() < 0.15:
            follow_q, follow_a = rng.choice(spec["followups"])
            messages += [{"role": "user", "content": follow_q}, {"role": "assistant", "content": follow_a}]
        line = json.dumps({"messages": messages}, ensure_ascii=True, separators=(", ", ": "))
        if line in seen:
            continue
        seen.add(line)
        lines.append(line)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(Path(__file__).resolve().parents[1] / "tara_trainer" / "data"))
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    for domain in DOMAINS:
        lines = build(domain, args.seed)
        (out / f"{domain}.jsonl").write_text("\n".join(lines) + "\n", encoding="ascii")
        print(f"{domain}: {len(lines)} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
