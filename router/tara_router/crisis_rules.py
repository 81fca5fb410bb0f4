"""The crisis rules (``tara_router.crisis`` reads them): safe uses to blank out, strong signs that
decide alone, and weak cues that decide when two different kinds meet in a conversation.

How to write one: in plain spelling, against normalised text (lower case, contractions spelled out,
"i am", "do not", "can not", one space between words, " . " at sentence ends and " , " at commas;
see ``crisis._normalise``). Every source goes through ``squeezed``, which squeezes repeated letters as
the text is, so "better off" is written as such and also matches "beter of". Start each branch with
``\\b`` and a word or a group of plain words, ``\\b(?:want|wish) ...``, or at least two letters
(``\\bsu[aeiy]...``): the index in ``crisis`` tries a branch only where a turn has such a word, and
a test checks that every branch can be indexed and that the index finds what a plain search finds.
Use ``gap(n)`` for "up to n words" (punctuation between them does not count). Every rule should be
a concept, not a sentence: add a row to trainer_image/tara_trainer/data/routing/crisis_dev.jsonl for each miss it fixes.
"""

from __future__ import annotations

import re

__all__ = ["CUES", "SAFE_USES", "SIGNS", "UNSQUEEZABLE", "gap", "squeezed"]

_SQUEEZE_SOURCE = re.compile(r"(?<!\\)([a-z])\1+")  # never merge an escape (\b) into the next letter


def gap(n: int) -> str:
    """Up to n words; punctuation between them does not count, so a sentence may go on after a full
    stop, as people in distress often write ("tired of everything. of living")."""
    return rf"(?:[.,] )*(?:[^ .,]+ (?:[.,] )*){{0,{n}}}"


# Words whose squeezed spelling is another, ordinary word ("noose" and "nose" both squeeze to "nose":
# "we made a nose for the snowman" read as a plan; "shoot" and "shot": "the photographer shot me."
# read as "shoot me."): the text and the rule sources both spell them this way before squeezing, so a
# rule keeps its plain spelling and never meets the other word.
UNSQUEEZABLE = {"noose": "nouse", "nooses": "nouses", "shoot": "shuot", "shoots": "shuots"}
_UNSQUEEZABLE_SOURCE = re.compile(r"(?:(?<=\\b)|(?<![a-z\\]))(" + "|".join(sorted(UNSQUEEZABLE, key=len, reverse=True)) + r")(?![a-z])")


def squeezed(*sources: str) -> tuple[str, ...]:
    """Pattern sources in plain spelling, squeezed as the text is: every run of one letter to one
    letter ("kill" -> "kil"), the ``UNSQUEEZABLE`` words respelled first. An escape is never merged
    into the letter after it ("\\bb...")."""
    return tuple(_SQUEEZE_SOURCE.sub(r"\1", _UNSQUEEZABLE_SOURCE.sub(lambda m: UNSQUEEZABLE[m.group(1)], s)) for s in sources)


def _compile(*sources: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{s})" for s in squeezed(*sources)))


_SELF = r"(?:myself|yourself|himself|herself|themselves|themself|oneself|ourselves)"
_WHO = r"(?:i|she|he|they)"
_INJURE = (r"(?:cut|cuts|cutting|hurt|hurts|hurting|harm|harms|harming|harmed|burn|burns|burning|burned|burnt|hit|hits|"
           r"hitting|scratch|scratches|scratching|scratched|bruise|bruising|bruised|punch|punching|punched|injure|"
           r"injures|injuring|injured|bite|biting|bit|carve|carving|carved|slash|slashing|slashed|slit|slitting)")
_BODY = r"(?:wrist|wrists|arm|arms|forearm|forearms|thigh|thighs|leg|legs|skin|stomach|hips?|vein|veins)"
_ABSENT = (r"(?:gone|dead|never born|not (?:here|around|alive|born|in it|in the picture|in (?:their|his|her|your|the|my) "
           r"(?:lives|life|world)))")
_CLAUSE_GAP = r"(?:[^ .,]+ ){0,4}"  # up to four words in the same clause
_NOT_BEING = (r"(?:(?<!not )(?<!not to )(?<!never )die\b(?! (?:hard|down|off|out|for|of (?:boredom|embarrassment|laughter|"
              r"laughing|thirst|hunger|shame|cringe|cuteness|curiosity))\b)|be dead|not exist|stop existing|stopped existing|"
              r"not be alive|not be here|not wake up|never wake up|stop living|cease to exist|not be around|kill myself|"
              r"end my life|end it all|disappear forever|never get up|never (?:been |be )?born|waste away|wither away|"
              r"disappear off the face of the earth)")
_AWAY = r"(?!(?: \S+){0,6} (?:vacation|holiday|conference|trip|travel\w*|away|abroad|office|meeting|leave|business|off to(?! (?:a better place|heaven|the other side|be with|join|sleep|rest)\b)))"

SAFE_USES = _compile(  # blanked out before the signs are read
    r"\b(?:career|political|social|commercial|financial|professional|economic|electoral|corporate|brand) suicid\w*",
    r"\bsuicid\w* (?:squad|squeeze|doors?|burns?|runs?|sprints?|drills?|kings?|missions?|bomb\w*|attack\w*|vests?|"
    r"drones?|moves?|chess|variant|pass|lane)\b",
    r"\bsuicid(?:e|al) (?:for|to) (?:the|our|a|an|any|your|their|us|them) (?:team|company|business|brand|career|"
    r"project|startup|party|campaign|economy|market|sales|product|band|club)\b",
    rf"\b(?:cut|cuts|cutting)\w* {_SELF} (?:some |a little |a bit of |a )?(?:bigger |larger |fair |decent |good |small |tiny )?(?:slack|break|slice|piece|portion|deal|share)\b",
    rf"\b(?:kill|killing|killed|hurt|hurting) {_SELF} (?:laughing|with laughter)\b",
    r"\boverdos\w* on (?:chocolate|sugar|sweets|candy|cake|caffeine|coffee|netflix|tv|television|anime|memes|cuteness|"
    r"nostalgia|carbs|pizza|food|love|work|sunshine)\b",
    rf"\bshot {_SELF} (?:in the foot|a|an)\b|\b(?:delete|deleting|remove|removing) {_SELF} from\b",
    r"\b(?:it|that|this) (?:would|will|is|was|seems|sounds) (?:\S+ ){0,2}suicid(?:e|al) (?:to|for)\b",
    rf"\bdrown\w* {_SELF} in (?!(?:the |a )?(?:water|bath|bathtub|river|lake|sea|ocean|pool)\b)",
    r"\b(?:fell|fall|falling|tripped|slipped|crashed|collided|bumped)\w* " + gap(5) + rf"and (?:\S+ )?{_INJURE} "
    rf"{_SELF}",
    rf"\baccidental\w* (?:\S+ )?{_INJURE} (?:{_SELF}|(?:my|his|her|their) (?:\S+ )?{_BODY})",
    rf"\b{_INJURE} (?:{_SELF}|(?:my|his|her|their) (?:\S+ )?{_BODY}) {gap(3)}(?:while|on (?:a|the|an|my|his|her|"
    r"some) |at (?:the )?(?:gym|work|practice|training|game|match)|in (?:the )?(?:first|second) half|in (?:training|"
    r"practice|the game|the match|a fall|an accident|the kitchen)|doing|playing|shaving|chopping|cooking|slicing|"
    r"lifting|running|climbing|falling|jumping|peeling|carving (?:the|a)|opening|trying to|(?<!not )(?<!never )by accident|(?<!not )accidentally|"
    r"(?:the )?knife slipped|with (?:a|the|my) (?:hot|iron|pan|"
    r"kettle|oven|stove|chainsaw|saw|table saw|circular saw|axe|lawnmower|mower|strimmer|hedge trimmer|grinder|chisel))",
    # sport drills ("run suicides"), titles, and the word in literature, teaching and research
    r"\bsuicides " + gap(4) + r"(?:drill|drills|sprint|sprints|conditioning|baseline|baselines)\b",
    r"\b(?:run|runs|running|ran|do|does|did|doing) (?:[0-9]+ |ten |twenty |some |more |extra |a few |a set of )?suicides\b(?! "
    r"(?:in|this|last|per|among)\b)",
    r"\bsuicides (?:every|at|in|after|before) " + gap(4) + r"(?:practice|training|session|gym|drill)",
    r"\bsuicide (?:cord|cords|cable|cables|plug|plugs|lead|leads|extension|extensions)\b",
    r"\bescape rooms? " + gap(10) + r"(?:no way out|trapped|stuck|can not get out|will never get out)\b",
    r"\b(?:stockpil\w*|stock up on|stocking up on|hoard\w*) (?:\S+ )?(?:meds|medication|medications|medicine|medicines|pills|"
    r"prescriptions?) " + gap(4) + r"for (?:a |an |my |the |our )?" + gap(3) + r"(?:trip|journey|expedition|deployment|travel|"
    r"vacation|holiday|winter|season|semester|hurricane|storm|move|posting|fieldwork|research)\b",
    r"\b(?:run|runs|running|ran|doing) suicides\b",
    r"\b(?:the )?virgin suicides\b|\bsuicide is painless\b",
    r"\b(?:speech|soliloquy|poem|poems|novel|play|book|film|movie|song|lyrics|episode|essay|thesis|theme|themes|scene|"
    r"chapter|motif|painting|opera|myth|legend|story) (?:\S+ )?(?:is |was |are )?(?:about|on|depicting|depicts|"
    r"portraying|portrays|treats|treating|of) suicid\w*",
    r"\b(?:romeo|juliet|hamlet|ophelia|macbeth|othello|cleopatra|antony|brutus|werther|karenina|bovary|javert|"
    r"the characters?|the protagonist|the heroine|the hero|the narrator) " + gap(6) + r"(?:kill|killed|kills|killing) "
    r"(?:themselves|himself|herself)\b",
    r"\bsuicid\w* (?:prevention|risk factors?|screening|statistics|rates?|awareness|research|epidemiology|postvention|"
    r"contagion|clusters?|reporting|guidelines|assessment|assessments)\b",
    r"\b(?:reporting on|reports? on|coverage of|screen\w* for|prevention of|research on|study of|statistics on) "
    r"suicid\w*",
    r"\bwerther effect\b|\bpapageno effect\b",
    # biology and chemistry: "cell suicide" (apoptosis), "suicide gene", "suicide inhibitor"
    r"\b(?:cell|cells|cellular|programmed cell|bacterial|altruistic|neuronal|mitochondrial) suicid\w*|\bsuicid\w* "
    r"(?:gene|genes|inhibitor|inhibitors|inhibition|substrate|substrates|enzyme|enzymes|plasmid|plasmids|protein|"
    r"proteins|cassette|mechanism)\b",
    r"\bend (?:it|things) " + gap(3) + r"(?:stay|remain|still be|keep being|be) friends\b",
    rf"\b(?:so (?:that )?(?:i|you|we|he|she) (?:do not|does not|will not|would not)|without|to avoid|avoid) (?:accidentally )?"
    rf"(?:electrocut\w*|shock\w*|electrif\w*) {_SELF}\b",
    r"\bend (?:it|this|things) (?:[.,] )?(?:i mean |with )?(?:my|the|this|our|that) (?:\S+ ){0,2}(?:subscription|membership|"
    r"account|contract|lease|plan|streak|trial|policy|relationship|marriage|friendship|partnership|tenancy|game|season)\b",
    r"\bsuicid\w* (?:into|in to) (?:the |their |enemy |an |a )?(?:\S+ )?(?:towers?|turrets?|enemies|enemy|creeps|base|"
    r"fountain|team|minions|zerglings|mobs|boss)\b",
    rf"\b(?:minor|small|little|slight|first degree|second degree|mild|tiny) (?:burn|burns|cut|cuts|scratch|scratches|scrape|"
    rf"scrapes|graze) (?:on|to) (?:my|his|her|their) (?:\S+ )?{_BODY}\b",
    r"\b(?:character|avatar|player|hero|sim|toon|guy|dude) (?:is )?(?:\S+ ){0,3}(?:jump\w*|leap\w*) (?:off|from)\b",
    r"\b(?:jumped|jumping|jump|jumps) (?:off|from) " + gap(3) + r"into (?:a |the |our |their |his |her )?(?:swimming )?"
    r"pool\b",
    r"\b(?:jumped|jumping|jump|jumps) (?:off|from) (?:a |the |some )?(?:cliff|cliffs|rock|rocks|pier|dock|jetty|boat|"
    r"diving board|platform|high dive) into (?:a |the )?(?:lake|sea|water|river|pool|ocean|quarry|lagoon|waves)\b",
    r"\bburden " + gap(2) + r"(?:asking|to ask|by asking|when i ask) " + gap(3) + r"(?:coworkers|co workers|colleagues|"
    r"boss|manager|team|teammates|classmates|teacher|teachers|professor|tutor|neighbours|neighbors|landlord)\b",
    # a complaint about a named nuisance ("can't go on like this with the landlord"), across a short turn too
    r"\bcan not (?:go on|keep going|carry on|live) like this " + gap(2) + r"(?:with )?(?:the|my|our|this|these|that) "
    r"(?:\S+ ){0,2}(?:landlord|landlady|neighbours?|neighbors?|noise|mould|mold|damp|leak|heating|boiler|commute|traffic|"
    r"printer|wifi|internet|laptop|dog|dogs|barking|roommates?|flatmates?|builders?|contractors?|council|construction|"
    r"renovation|roadworks)\b",
    # a help line for an accidental exposure ("the poison line"): the exposure's own words are still read
    r"\bpoison (?:control|line|centre|center|help ?line|hotline|information|info)\b",
    r"\bgiv\w* away (?:all )?(?:of )?(?:my|our) (?:\S+ )?(?:things|stuff|belongings|possessions|clothes|books|furniture|"
    r"everything) " + gap(8) + r"(?:minimalis\w*|declutter\w*|downsiz\w*|konmari|kondo|moving abroad|move abroad|"
    r"moving to|move to|relocat\w*|emigrat\w*|yard sale|garage sale|charity shop)\b",
    r"\b(?:cancel\w*|clos\w*) (?:all )?(?:his|her|their) (?:\S+ )?(?:accounts?|phone contract|subscriptions?|socials|"
    r"social media) " + gap(6) + r"(?:death certificate|probate|estate|executor|funeral)\b",
    r"\b(?:picked|set|chosen|chose) (?:a|the) date " + gap(3) + r"(?:for )?(?:the|our|my|a|his|her) (?:\S+ )?(?:proposal|"
    r"wedding|party|launch|move|trip|surgery|operation|exam|interview|reunion|shower|housewarming|opening)\b",
)
SIGNS: dict[str, tuple[str, ...]] = {
    "ideation": squeezed(
        rf"\b(?:kill|killing|killed|kills|end|ending|ended|offing|unalive|unaliving|unalived|hang|hanging|hanged|"
        rf"hung|drown|drowning|shoot|shooting|shot|poison|poisoning|stab|stabbing|overdose|overdosing|delete|"
        rf"deleting|suffocate|suffocating|gas|gassing|electrocute) {_SELF}\b",
        # "off myself" squeezes to "of myself" ("proud of myself"): only after a word that makes it a verb
        rf"\b(?:to|gonna|wanna|gotta|i|will|should|could|would|might|may|finally|ima|i will|i would) off {_SELF}\b",
        r"\b(?:take|taking|took|taken|end|ending|ended) (?:my|his|her|their|your|our|ones) (?:own )?li(?:fe|ves)\b"
        r"(?! (?:back|in|into|to|insurance|savings|policy|story|coach|more|forward|seriously|for granted)\b)",
        r"\bsu[aeiy]?[cs][iy]?d(?:e|es|al|aly|le|el|ial|ing)?\b|\bsewer ?slide\b|\bcommit\w* sudoku\b|\bunaliv\w*|"
        r"\bself ?delet\w*",
        r"\b(?:want|wants|wanted|wanting|wish|wishes|wished|wishing|long|longing|ready|plan|plans|planning|planned|"
        r"decided|deserve|deserves|deserved|need|needs|try|trying|tried|attempt|attempted|prepared|hope|hoping) "
        r"(?:to )?(?:die|be dead|not be alive|stop living|stop existing|not exist)\b(?! (?:down|off|out)\b)",
        r"\b(?:want|wants|wanted|wanting|wish|wishes|wished|wishing|hope|hopes|hoping|pray|prays|praying|rather|sooner|"
        r"longing|long|dream|dreams|dreaming|would love|deserve|deserves|tempted|tempting|decided|ready) " +
        _CLAUSE_GAP + _NOT_BEING,  # "wishing I wouldn't exist", "I'd rather not exist", "hope I just die"
        r"\b(?:want|wants|wish|wishes|need|needs|begging|hope|hoping)\w* (?:someone|somebody|anyone|something|god|a car|"
        r"a truck|a bus) (?:would )?(?:to )?(?:just )?(?:kill|shoot|end|murder|take) me\b",
        r"\b(?:telling|tells|told|tell|voices?) (?:\S+ )?me to (?:end it|kill myself|die|hurt myself|cut|jump|"
        r"end my life)\b",
        r"\bhang(?:ing)? (?:a|the) (?:person|human|body|man|woman)\b",
        r"\b(?:easiest|easy|quickest|quick|painless|best|only|permanent) way out(?= [.,]|$)",
        r"\btell (?:my \S+|them|everyone) (?:that )?i am sorry (?:and (?:that )?i love|for everything)\b",
        r"\blived long enough(?= [.,]|$| and)|\bstop\w* (?:taking )?(?:my|his|her|their) (?:\S+ )?(?:meds|medication|"
        r"medicine|insulin|pills|dialysis|treatment) (?:on purpose|deliberately|so (?:that )?(?:i|he|she) (?:can|could|"
        r"will) die)\b",
        r"\bstand\w* on (?:the |a )?(?:edge|ledge|roof|rooftop|bridge|railing|balcony|cliff)(?: edge)?(?: right now| "
        r"now)?(?= \.|$)",
        rf"\b(?:wish|wished|wishes|hope|hoping) (?:that )?{_WHO} (?:was|were|am|is|could be|would be|had been) dead\b",
        r"\bbetter off dead\b|\brather (?:be )?dead\b|\brather die\b|\b(?:i|she|he) should (?:just )?(?:die|be dead)\b",
        r"\b(?:thoughts?|thinking|thought|think|thinks|ideation|urges?|fantasi[sz]\w*|dreaming|dream|obsess\w*) "
        r"(?:of|about) (?:my own |my |her |his )?(?:killing (?:myself|herself|himself)|ending (?:it|my life|things|"
        r"everything)|dying(?! (?:my|her|his|your|the|their) hair)|death|funeral|not being (?:here|alive|around)|"
        r"being dead|self ?harm|hurting (?:myself|herself|himself))\b",
        r"\bend(?:ing)? it all\b|\b(?:thinking|thought|think|considering|consider|want|wanted|going|plan|planning|"
        r"ready|decided|about|like|ways?|how) (?:of |about |to )?(?:just |simply |finally )?end(?:ing)? "
        r"(?:it|things|everything)\b(?! (?:with|between|for|early|now|there|here|at|in|off)\b| on (?!(?:monday|"
        r"tuesday|wednesday|thursday|friday|saturday|sunday|the weekend|my birthday)\b))",
        r"\b(?:want|way|get|check|opt) out of (?:this |my )?(?:life|world)\b",
        r"\b(?:death|dying|being dead|not existing|not being here)(?! (?:metal|star|penalty|toll|rates?|card|valley|"
        r"match|trap|cab)\b) " + gap(2) + r"(?:sounds|seems|looks|feels|would be|is|will be) (?:\S+ )?(?:nice|good|"
        r"peaceful|better|easier|a relief|appealing|welcome|like (?:a relief|the answer|the only (?:way|option)|freedom|"
        r"peace)|the answer|the only (?:way|option))\b",
        r"\bto live for (?:but|and) (?:i )?(?:do not|can not|no longer) (?:feel|believe|see)\b",
        r"\b(?:letter|letters|note|notes|message|messages|video|videos) " + gap(4) + r"(?:for )?(?:after|when|once) "
        r"(?:i am|i m) (?:gone|dead|not here)\b",
        r"\bpretend\w* " + gap(3) + r"(?:want to (?:be alive|live|be here)|(?:like )?(?:living|being alive))\b",
        r"\b(?:removing|remove|erase|erasing|deleting|delete|getting rid of|taking) (?:myself|me) " + gap(3) +
        r"(?:fix|fixes|solve|solves|help|helps|better|easier)\b",
        r"\bif i (?:just )?(?:was|were) (?:gone|dead|not here|not around|never born)\b(?! (?:for|on|to|away|out|abroad)\b)",
        r"\b(?:looking|staring|standing|sitting|lying|waiting)\w* (?:at|on|by|near|over|down at) (?:the )?(?:train )?"
        r"(?:tracks|rails|water below|drop)(?: right now| now)?(?= [.,]|$)",
        r"\b(?:would|will|does|do|did) (?:anyone|anybody) (?:even |really )?(?:miss|notice|care about) me\b",
        r"\bnot " + gap(2) + r"be (?:here|around|alive) (?:for|to see|at) (?:my|her|his|their|the) (?:\S+ )?(?:birthday|"
        r"christmas|graduation|wedding|anniversary|kids|children|holidays|new year)\b" + _AWAY,
        r"\b(?:picture|picturing|pictured|imagine|imagining|imagined|see|seeing|visuali[sz]\w*|fantasi[sz]\w*) "
        r"(?:myself|me|herself|himself) (?:\S+ )?(?:hanging|dead|dying|jumping|falling|in a coffin|in a casket|"
        r"bleeding|drowning|gone|not here|shooting|with a gun)\b",
        r"\b(?:dream|dreams|dreaming|think|thinking|fantasi[sz]\w*) (?:of|about) (?:not existing|not being alive|never "
        r"waking up|disappearing forever|being gone)\b",
        r"\b(?:ready|want|wants|going|time|longing|long|wish|wishes) (?:to )?(?:join|be with|see) (?:my|her|his) "
        r"(?:late )?(?:wife|husband|mom|mum|mother|dad|father|son|daughter|partner|parents|family|grandma|grandpa|"
        r"brother|sister|baby|boyfriend|girlfriend)(?= [.,]|$| in heaven| up there| again| on the other side)",
        r"\bbe with " + gap(3) + r"in heaven\b|\bmy (?:own )?funeral\b(?! (?:plan|insurance|costs?)\b)|"
        r"\b(?:her|his|their) own funeral\b(?! (?:plan|insurance|costs?)\b)",
        r"\b(?:going to|want to|will|ready to|plan to|decided to|about to|time to) end (?:my|the|all (?:my|the|this)|"
        r"this) (?:pain|suffering|misery|torment)\b(?! (?:in|from|of (?:my|the) (?:back|knee|neck|tooth|head))\b)",
        r"\b(?:dead inside|already dead) " + gap(6) + r"(?:make it real|for real|make it official|finish)",
        r"\b(?:goodbye|good bye|farewell|last|final) (?:letter|letters|note|notes|message|messages|video|videos) "
        r"(?:to|for) (?:my (?:family|wife|husband|kids|children|parents|mom|mum|dad|partner|loved ones)|everyone|"
        r"everybody|all)\b|\b(?:letter|letters|note|notes|message|messages) (?:to|for) (?:everyone|everybody|all "
        r"the people|the people) i love\b|\b(?:goodbye|good bye|farewell) forever\b",
        rf"\b(?:if|when|once|before|after) {_WHO} (?:end|ended|ending) (?:things|everything|it all|my life)\b"
        r"(?! (?:with|between)\b)",
        r"\b(?:god|lord|jesus|universe) " + gap(3) + r"(?:take me|takes me|took me|let me die|end (?:it|my life)|call me home|"
        r"bring me home)\b",
        rf"\b(?:what|something) {_WHO} (?:might|could|will|would|am going to|is going to|may) do to {_SELF}\b|"
        rf"\bdo something to {_SELF}\b",
        rf"\b(?:do not|can not|does not) trust {_SELF} " + gap(3) + r"(?:around|with|near) " + gap(2) +
        r"(?:knives|knife|pills|meds|gun|guns|razor|razors|blades|rope|medication|car|bridge|balcony|window)\b|"
        rf"\b(?:i am|she is|he is|they are|i do not feel|i can not keep myself) (?:not )?safe (?:with|around|from) "
        rf"{_SELF}\b",
        r"\b(?:sorry|regret it|miss me|realise|realize|understand) " + gap(2) + rf"when {_WHO} (?:am|is|are) "
        r"(?:gone|dead)\b",
        r"\b(?:this is|tonight is|today is) my last (?:night|day|week)(?= [.,]|$| on earth| alive| here)",
        r"\b(?:it|everything|this|the pain) (?:will|is going to|is gona) (?:all )?be over(?: soon| tonight| tomorrow| "
        r"by morning)?(?= \.|$)",
        r"\b(?:not|never) " + gap(4) + r"make it (?:through|past|to) (?:the night|tonight|tomorrow|the weekend|"
        r"morning)(?= [.,]|$)",
        r"\bby (?:not being (?:here|around|alive)|not existing|disappearing|dying|ending it|killing myself)\b",
        r"\b(?:disappointed|sad|upset|angry|annoyed|furious|devastated) " + gap(2) +
        r"(?:i am|that i am) still (?:alive|here|breathing)\b",
        r"\b(?:possible|way|how) to (?:just |simply )?(?:never wake up|not wake up|not exist|stop existing|"
        r"disappear forever|fall asleep forever)\b",
        r"\bso (?:that )?(?:it|everything|the pain|this|life|my life) (?:would|will|could|can|might) (?:all |finally |"
        r"just )?(?:end|be over|stop)\b",
        r"\b(?:think|thinking|thought|thinks) about (?:just |simply )?(?:falling|jumping|stepping off|stepping in front|"
        r"drowning|hanging|overdosing|"
        r"crashing)\b(?! (?:in|into|on|at|to|for|over|ahead|back|behind|out|through|up|down|ship|the gun)\b)",
        r"\b(?:not afraid of|looking forward to|ready for|at peace with|welcome) (?:dying|death|my death|the end)\b",
        r"\b(?:i am|i feel like i am|feel like i am|i feel like) (?:already|basically|practically) (?:gone|dead)\b",
        r"\b(?:sleep|asleep) and stay asleep(?= [.,]|$| forever)",
        r"\bsomething (?:stupid|drastic|permanent|final) " + gap(3) + r"(?:to myself|tonight|and not|and never)\b",
        r"\bkill me (?:now|already|please)\b|\bjust kill me(?= [.,]|$)",
        r"\b(?:go to sleep|fall asleep|sleep|drift off) and (?:not|never) (?:come back|return|wake up again)\b",
        r"\buninstall\w* myself\b|\buninstall\w* (?:\S+ ){1,4}(?:and|then) (?:then )?myself\b",
        r"\b(?:crawl|crawling|curl|curling) (?:up )?(?:into|in) (?:a |the )?(?:\S+ )?(?:hole|ball|corner|cave) and die\b",
        r"\bshoot me(?= [.,]|$| now| already| please)",
        r"\bput me in (?:the|my) (?:ground|grave|coffin)\b",
        r"\b(?:switch|switching|turn|turning|put|putting) my lights? (?:off|out) (?:for good|forever|permanently)\b",
        r"\b(?:make|making|made) (?:this|it|today|tonight) my (?:last|final) (?:chapter|act|page|curtain call)\b",
        r"\b(?:easier|going|want|wanna|should|could|might|ready) (?:as well )?(?:to )?(?:just )?(?:take|go for) a long walk off (?:the end "
        r"of )?(?:a|the) (?:short )?pier\b",
        r"\b(?:sorry|apologies|apologise|apologize) " + gap(4) + r"(?:whoever|the person who|whoever it is that) (?:has to |"
        r"have to |will )?(?:clean up|clean it up|find me|finds me)\b",
        r"\b(?:can not wait|hope|hoping|wish|wishing|want|praying|pray) to (?:get|be) (?:hit|run over|killed) by a (?:\S+ )?"
        r"(?:bus|car|truck|lorry|train|tram)\b",
        r"\bctb\b|\bcatch(?:ing)? the bus\b(?= [.,]|$| tonight| soon| early)",
        r"\bmy last (?:\S+ ){1,2}(?:on earth|on this earth|alive|in this world)\b(?!(?: [.,])* as (?:a|an)\b)",
        r"\b(?:hope|hoping|hoped|wish|wishing|pray|praying)\w* (?:that )?(?:the|my|this|our|a) (?:\S+ )?(?:plane|flight|"
        r"car|bus|train|ship|boat|elevator|lift) " + gap(2) + r"(?:goes down|go down|crashes|crash|falls|sinks|derails)\b",
        r"\b(?:hope|hoping|hoped|wish|wishing|pray|praying)\w* " + gap(4) + r"(?:finishes|finish|finished|takes|take) "
        r"me (?:off|out)\b",
        r"\b(?:disappointed|bummed|let down|a bit sad|kind of sad) " + gap(8) + r"(?:was|is|were|are|came back) "
        r"(?:benign|not cancer|not serious|not fatal|treatable|curable)\b|\b(?:benign|not cancer|not serious|"
        r"not fatal|treatable|curable) " + gap(4) + r"(?:i was|i am|i felt|i feel) (?:\S+ ){0,2}(?:disappointed|bummed|"
        r"let down)\b",
        r"\b(?:scared|afraid|terrified|frightened) (?:of )?what i (?:will|might|would|could|may|am going to) do"
        r"(?: to myself)?(?= [.,]|$| tonight| if i am alone| when i am alone| alone)",
    ),
    "burden": squeezed(
        r"\b(?:better|happier|easier|freer|free|relieved|safer|lighter|fine|happy|cleaner|simpler|calmer|smoother)\b " +
        gap(6) + rf"(?:without me|with me gone|with me out of the (?:picture|way)|(?:when|once|after) i am gone|if i (?:just )?(?:was|were|am) {_ABSENT}|"
        r"if i (?:just )?(?:did not|do not|didnt) exist|if i (?:had )?never (?:been born|existed)|"
        r"if i (?:just )?(?:died|disappeared|vanished|left for good|killed myself|ended it|was to die))\b",
        r"\b(?:everyone|everybody|world|family|all|people|kids|children|they|everyone else)\b " + gap(3) +
        r"better off without (?:him|her|them)\b",
        r"\bbetter off " + gap(6) + r"than (?:with )?me\b|\bbetter off with (?:the |my )?(?:life )?insurance\b|"
        r"\bworth more dead\b|\b(?:more|better) (?:\S+ )?dead than alive\b",
        r"\b(?:no one|nobody|none of them)\b " + gap(3) + r"miss me\b",
        r"\b(?:no one|nobody|none of them|anyone|anybody|people|they|everyone|would) " + gap(3) +
        r"(?:care|cares|notice|cry|mourn|miss me)\w* " + gap(2) +
        r"if i " + gap(2) + r"(?:died|dead|gone|disappeared|vanished|killed myself|was not here|did not exist|"
        r"stopped existing|stopped breathing|was no longer here|was not around)\b",
        rf"\b{_WHO} (?:am|is|are|was|were|feel|feels|felt|have become|has become|became|just|keep being) " + gap(4) +
        r"(?:burden|waste of (?:space|air|oxygen|life))\b(?! of)",
        r"\bbeing (?:a |such a |the )?burden (?:to|on|for)\b",
        r"\b(?:favou?r|relief|blessing|gift) " + gap(3) + r"(?:by|if) (?:i )?(?:disappear\w*|dying|died|leaving for "
        r"good|killing myself|being gone|not being here|was gone|were gone)\b",
        r"\b(?:i|she|he|they|i am|i feel like|feel like i am|i feel like i am|she is|he is) (?:just |only |merely )?"
        r"taking up (?:space|air|oxygen|room)\b(?! (?:in|on)\b)",
        r"\b(?:no one|nobody) " + gap(3) + r"(?:come to|go to|attend|show up (?:at|to)|cry at) my funeral\b",
        r"\b(?:nobody|no one) " + gap(2) + r"(?:needs?|wants?) me\b",
        r"\b(?:world|everyone|everybody|life|everything) (?:would|will) (?:keep|go on|carry on|continue) (?:\S+ )?"
        r"without me\b|\b(?:nobody|no one) would (?:even )?(?:blink|notice|care)(?= [.,]|$)",
        r"\b(?:world|family|anyone|everyone|people|they) (?:does not|do not|would not|will not|does not even|"
        r"really does not|does not really) (?:need|want) me\b",
        r"\b(?:will not|not going to|will no longer) (?:be )?(?:a )?(?:problem|burden|bother|trouble|bothering|"
        r"burdening|troubling|in (?:anyones|your|their|the|everyones) way) " + gap(3) +
        r"(?:much longer|for long|any ?more|any longer)\b",
        r"\bwish(?:es|ed)? " + gap(3) + r"never (?:been |was |were )?born\b",
    ),
    "hopeless": squeezed(
        r"\b(?:no|not any|not a single|zero) (?:\S+ )?(?:reason|point|purpose) " + gap(3) + r"(?:to|in|of) "
        r"(?:live|living|life|go on|going on|keep going|keep living|stay alive|staying alive|be alive|being alive|"
        r"be here|carry on|continue|exist|existing|wake up|get up)\b(?! (?:with|in|on|at|the|this|that|a|an|using)\b)",
        r"\b(?:what is|why|is there|what) (?:even )?(?:the )?(?:point|purpose|use|sense) " + gap(2) +
        r"(?:of|in) (?:me )?(?:living|life|being alive|going on|existing|staying alive|being here)\b"
        r"(?! (?:in|on|at|near|with|abroad|the|a|together|insurance)\b)",
        r"\bcan not (?:find|see|think of) (?:a|any|one) (?:single )?(?:reason|point|purpose) " + gap(2) + r"(?:to|for) "
        r"(?:live|living|go on|going on|keep going|keep living|stay alive|staying alive|be here|carry on)\b",
        r"\bnothing (?:left )?(?:to|worth) liv(?:e|ing) for\b|\bnothing left for me\b|\bno one to live for\b",
        r"\bnot worth (?:living|being alive)\b",
        r"\b(?:life|living|existence) (?:is not|not|does not feel|is no longer|no longer) (?:\S+ )?worth (?:living|it)\b",
        r"\b(?:my life|my existence|life|existence) (?:is|feels|seems) (?:so |completely |totally )?"
        r"(?:pointless|meaningless)\b",
        r"\b(?:tired|sick|exhausted|done|finished) (?:of|with) " + gap(2) +
        r"(?:living|life|being alive|existing|being here|this life|my life|waking up)\b"
        r"(?! (?:in|with|at|on|near|here|there|paycheck|under|out of|early|so early|for|to|every)\b)",
        r"\b(?:i am|i m|she is|he is) (?:so |just |really )?(?:done|finished|through) (?:with )?(?:living|life|"
        r"being alive|existing)\b(?! (?:in|with|at|on|near|here|there|under|out of|like that)\b)",
        r"\b(?:do not|can not) see (?:myself|me|her|him) (?:making it|living|being alive|being here|surviving) "
        r"(?:to|past|until|through|beyond)\b",
        r"\b(?:give|given|gave|giving) up on " + gap(3) + r"(?:life|living|being alive)\b",
        r"\b(?:hate|hating|hated|sick of|tired of|exhausted of|exhausted by|done with|do not deserve|does not deserve|"
        r"not deserve|do not want|does not want|not wanting|why am i|why is she|why is he|why are they|why should i|"
        r"why do i|why would i|why bother|no longer want|scared of|afraid of|not strong enough to|too tired to|"
        r"too weak to|can not keep|why keep|why keep trying to|why even try to|why try to) " + gap(2) +
        r"(?:to )?(?:live|living|be alive|being alive|alive|exist|existing|stay alive|staying alive|be here|being here|"
        r"do this life|do life)\b"
        r"(?! (?:in|with|at|on|near|here|there|paycheck|under|out of|together|alone|abroad|off|for|today|tonight|"
        r"when|if|because)\b)",
        r"\b(?:tired|sick|exhausted|weary) (?:[.,] )?of " + gap(6) + r"(?:breathing|existing|being alive)\b"
        r"(?! (?:in|with|at|on|near|here|there|under|out of|through|the|this|that|smoke|fumes|dust)\b)",
        r"\b(?:care|cares|cared|matter|matters|mattered|notice|difference) " + gap(3) +
        rf"(?:if|whether) {_WHO} (?:live|lives|lived|die|dies|died)\b|\blive or die\b",
        r"\b(?:sleep|asleep|rest) (?:forever|for ever|permanently|for good|eternally)\b",
        r"\b(?:do not|can not|no longer) see (?:why|the point|a reason|any reason|a way|any way|how) " + gap(3) +
        r"(?:carry on|carrying on|go on|going on|keep going|continue|continuing|keep living|live|living|bother|"
        r"be here|being here|stay|staying alive|trying)\b(?! (?:with|in|on|at|the|this|that|a|an|using|working)\b)",
        r"\b(?:not mind|welcome|be a relief|be fine|be ok|be okay|be glad|be happy) " + gap(2) +
        rf"(?:dying|death|if {_WHO} (?:died|did not wake|never woke|got hit|got killed)|not waking up|never waking up)\b",
        rf"\bif {_WHO} " + gap(2) + r"(?:died|got hit|get hit|were hit|was hit|did not wake|never woke|was dead|"
        r"were dead|got killed|was killed) " + gap(6) + r"(?:not mind|not care|be (?:fine|ok|okay|a relief|relieved|"
        r"glad|happy)|relief|welcome it)\b",
        r"\b(?:my|his|her) life is (?:over|finished|done)\b",
        r"\b(?:not|never) " + gap(2) + r"(?:feel anything|wake up|wake|exist|breathe) (?:ever )?again\b",
        r"\bno (?:other )?way out(?= [.,]|$| for me| of (?:this life|life|it all)| except| but| anymore)",
        r"\bno (?:point|reason|purpose) (?:any ?more|in anything|to anything|in trying any ?more)(?= [.,]|$)",
        rf"\b{_WHO} (?:just |really |only )?(?:want|wants|need|needs) (?:out|to get out)"
        r"(?= [.,]|$| of (?:this life|life)\b)",
        r"\bbe (?:here|around|alive) to (?:see|watch|read|finish|attend|celebrate|hear|meet|enjoy|use)\b" + _AWAY,
        r"\b(?:life|my life|existence) (?:has|holds) no (?:meaning|point|purpose|value)\b",
        r"\b(?:ready|want|wants|going|time|decided) to leave (?:this world|this life|this earth|life|it all|"
        r"everything)\b|\blife " + gap(8) + r"(?:ready|want|going|time) to leave it\b",
        r"\bcan not (?:do (?:this|it) )?any ?more(?= [.,]|$)|\bno hope (?:left )?(?:for me|in my life|at all|any ?more)\b",
        r"\b(?:want|going|ready) to give up on (?:life|everything|myself)\b",
        r"\b(?:what is|why) (?:even )?the point (?:any ?more|of anything|of it all|of any of (?:it|this))(?= [.,]|$)",
        rf"\bso (?:that )?{_WHO} (?:can|could|would|will|might) (?:just |finally )?(?:die|be dead|not wake up|not exist|"
        r"disappear)\b",
        r"\b(?:stop|cease) (?:\S+ )?(?:breathing|existing|living|being) (?:forever|for good|permanently)\b",
        r"\bcan not live with (?:myself|herself|himself)\b(?! if)",
        r"\b(?:stop|stopping|cease|ceasing) (?:to )?(?:exist|existing|living|being alive)\b"
        r"(?! (?:in|like|with|on|for)\b)",
        r"\b(?:do not|does not|did not|never|no longer) (?:want|wish|feel like|care) (?:to )?(?:live|be alive|exist|"
        r"be here any ?more|be here on this earth|be around any ?more|be in this world|go on|keep going|keep living|"
        r"continue living|wake up)\b(?! (?:early|at|before|for|so early|this early|on|in|with|like that|there)\b)",
        r"\b(?:want|wants|wish|wishes|wishing|hope|hopes|hoping|pray|prays|praying) " + gap(4) +
        r"(?:never|not|will not|would not|would never|do not|does not) (?:let me )?wake up\b"
        r"(?! (?:early|at|before|for|in time|on time|late|until)\b)",
        r"\b(?:sleep|asleep|bed) " + gap(5) + r"(?:never|not) (?:wake|get up)(?: up| again)?\b"
        r"(?! (?:until|in time|on time|early|for|at|when)\b)",
        r"\beternal (?:sleep|rest)\b|\bnever wake up again\b",
        r"\b(?:disappear|vanish|go away|be gone|fade away|cease to exist) " + gap(6) +
        r"(?:forever|for ever|for good|permanently|and never come back|and never be (?:found|seen)|without a trace)\b",
        r"\bwish " + gap(4) + r"(?:hit|run over|kill|killed|shot|crash into|crashed into) me\b",
        rf"\b(?:hope|hoping|wish|wishing|pray|praying) (?:that )?{_WHO} " + gap(2) + r"(?:die|dies|died|drop dead|"
        r"get killed|gets killed|get hit|do not make it|never make it|would not survive|do not survive)\b",
        r"\b(?:want|wants|need|needs|wish|wishing) (?:it all|it|everything|all of it|all of this|this|the pain|my pain|"
        r"the suffering|life|my life) (?:all )?(?:to )?(?:stop|end|be over)\b"
        r"(?! (?:raining|ringing|soon|early|by|before|quickly|in time|hurting my|now)\b)",
        r"\b(?:pain|suffering|hurting|it|everything|this|life|misery) (?:[^ .,]+ ){0,3}(?:end|stop|over|gone) "
        r"(?:(?![a-z]+ing )\S+ )?(?:permanently|for good|forever|for ever)\b",  # not "stop smoking for good"
        r"\bcan not (?:do this|take it|take this|go on|keep going|carry on|live like this)"
        r"(?: any ?more| any longer| much longer| like this|(?: for)? (?:another|one more) (?:day|night|week)|(?= [.,]|$))",
        r"\b(?:only|best|one) (?:way|option|solution|escape|answer|choice|way out) " + gap(5) + r"(?:die|dying|death|"
        r"dead|not be here|not to be here|not exist|not existing|end it|ending it|kill myself|killing myself|suicide)\b",
        r"\b(?:except|but|other than|besides|apart from) (?:dying|death|suicide|to die|ending it|killing myself)\b",
        r"\b(?:will not|not going to|may not|might not|will no longer|not) be (?:here|around|alive) " + gap(2) +
        r"(?:much longer|for (?:much |very )?long|any ?more|next (?:week|month|year|time)|tomorrow|by (?:then|"
        r"tomorrow|monday|next)|after (?:tonight|today|this))\b" + _AWAY,
        r"\bi will be gone (?:soon|forever|for good|by (?:tomorrow|then|morning)|before)\b" + _AWAY,
        r"\b(?:do not think|doubt|not sure|do not know if) i will (?:still )?be (?:here|around|alive) " + gap(2) +
        r"(?:much longer|for (?:much |very )?long|next (?:week|month|year|time)|tomorrow|by (?:then|tomorrow|monday|"
        r"next)|after (?:tonight|today|this))\b" + _AWAY,
        r"\b(?:why|bother|reason|point|purpose)\b " + gap(4) + r"(?:stay|staying|keep|keeping|remain|remaining|be|"
        r"being) alive\b",
        r"\bcan not see (?:myself|me) " + gap(2) + r"(?:here|alive|around|being here|being alive) " + gap(2) +
        r"(?:next|in|by)\b",
        r"\bwaiting for (?:my|the|this) body to (?:catch up|follow|give up|stop|get the message)\b",
        r"\bwhy (?:would i|i would|should i|i should|do i|would anyone) (?:even )?bother (?:waking up|to wake up|living|"
        r"staying alive|going on|carrying on|breathing)\b(?! (?:early|at|before|in|on|for (?:the|a|an|this|that|my) "
        r"(?:meeting|class|shift|flight|game|match|interview|exam|trip|party))\b)",
        r"\bwhy (?:even |bother to )?(?:live|keep living|go on|keep going|carry on|stay alive) (?:another|one more|any "
        r"more|for another) (?:day|night|week|month|year|decade|winter)s?\b(?! (?:in|at|with|near|abroad|here|there|under)\b)",
        r"\bnothing (?:left )?(?:keeping|holding|to keep|to hold) me (?:here|around|alive|going)\b"
        r"(?! (?:in|at)\b)(?!(?: \S+){0,8} (?:move|moving|relocat\w*|city|town|country|abroad|job|lease|visa|apartment|flat|"
        r"house)\b)",
        r"\b(?:disappointed|gutted|upset|sad|annoyed|angry) (?:that |to |when )?(?:i )?(?:woke|wake|waking|still woke|"
        r"still wake) up(?: again| this morning| every (?:morning|day)| each (?:morning|day)| at all| today)?(?= [.,]|$)",
        r"\bif (?:i|it|they|that|this|these|those) " + gap(4) + r"(?:die|dies|died|kill me|kills me|killed me|"
        r"do not wake up|never wake up|interact badly|interacts badly|react badly|goes wrong|go wrong|is fatal|are fatal|"
        r"stop my heart|stops my heart) " + gap(2) + r"(?:fine by me|so be it|i do not care|i would not mind|"
        r"i will not mind|good riddance|oh well|all the better|even better)\b",
    ),
    "plan": squeezed(
        r"\b(?:painless|painlessly|peaceful|peacefully|pain free|gentle|gentlest) (?:way|ways) to go\b"
        r"(?!(?: [.,])* (?:to|through|about|for|from|back|home|shopping|out|in (?:and|or)|in labou?r|during)\b)",
        r"\bwhere(?: is| s|s| are)? the (?:nearest|closest) (?:bridge|cliff|rooftop|overpass|tall building)s?\b"
        r"(?! (?:to cross|crossing|across|over (?:the|a)|for (?:cars|bikes|cycling|walking|pedestrians|traffic)|into town)\b)",
        r"\bi am (?:just )?(?:walking|wading|swimming out) (?:straight )?(?:into|out into) (?:the )?(?:sea|ocean|lake|river)\b"
        r"(?! (?:for|to (?:swim|cool|paddle)|with)\b)",
        r"\b(?:feeds?|feeding|look after|looks after|takes care of|take care of|walks?) (?:the|my) (?:cat|cats|dog|dogs|pets?|"
        r"fish|rabbit|bird|birds|hamster) (?:if|once|after) (?:i am|i m) (?:not here|not around|gone|no longer here)\b"
        r"(?! (?:over|during|while|because|for (?:the|a) (?:weekend|week|holiday|holidays|trip|conference)|on (?:holiday|vacation|"
        r"a trip))\b)",
        r"\bhow (?:many|much) " + gap(3) + r"(?:pills|tablets|capsules|meds|medication|mg|milligrams|grams|units|"
        r"insulin|tylenol|paracetamol|acetaminophen|ibuprofen|aspirin|xanax|benadryl|oxy\w*|opioids|vodka|alcohol|"
        r"of (?:these|them|it)) " + gap(4) + r"(?:it takes|does it take|would it take|will it take|would take|to die|"
        r"to kill|would kill|will kill|kill (?:a person|someone|me|you|an adult|a human|a man|a woman)|to not wake|"
        r"to never wake|is fatal|is lethal|are fatal|are lethal|be fatal|be lethal|to overdose|to end it)\b",
        r"\b(?:lethal|fatal|deadly) (?:dose|doses|amount|amounts|quantity|overdose|level)\b|\bld ?50\b",
        r"\b(?:painless|painlessly|quick|quickest|quickly|easy|easiest|easily|best|fast|fastest|sure|surest|peaceful|"
        r"peacefully|least painful|simplest|cleanest|reliable|effective|gentle|gentlest) (?:\S+ )?(?:way|ways|method|"
        r"methods|means) (?:\S+ )?to (?:die|end it|end things|end my life|kill (?:myself|yourself|oneself|me)|"
        r"commit suicide|not wake up)\b",
        r"\b(?:ways?|how|methods?) to (?:die|kill (?:myself|yourself|oneself)|end it|end my life)\b",
        r"\b(?:die|dying|death) (?:from|by|of) (?:carbon monoxide|exhaust|car fumes|charcoal|helium|hanging|drowning|"
        r"jumping|an overdose|overdose|pills|bleeding out|blood loss)\b|\blong " + gap(3) + r"to die\b",
        r"\b(?:high|tall|far|deep) enough " + gap(6) + r"(?:not survive|die|kill|be fatal|be lethal|to survive)\b",
        r"\b(?:not|never|can not|will not|would not|do not) survive (?:the |a |that )?(?:fall|jump|drop|impact)\b",
        r"\b(?:have|has|got|made|making) a plan (?:and|with) (?:the )?(?:means|way|method|pills|gun|rope|date|"
        r"time)\b",
        r"\b(?:how (?:long|fast|quickly)|take to|quickest|fastest|way to|ways to) " + gap(4) + r"bleed\w* out\b",
        r"\b(?:take|taking|took|swallow\w*|overdos\w* on) (?:\S+ )?(?:[2-9][0-9]|[0-9]{3,}|a hundred|hundreds|fifty|"
        r"forty|thirty|twenty|a whole bottle|the whole bottle|all (?:the|my|of (?:my|the))) (?:\S+ )?(?:pills|tablets|"
        r"paracetamol|tylenol|acetaminophen|ibuprofen|aspirin|xanax|sleeping pills|meds|painkillers)\b",
        r"\b(?:think\w*|want\w*|going|urge|tempted|imagin\w*|fantasi\w*|plan\w*) (?:about |of |to )?(?:driv\w*|"
        r"crash\w*|steer\w*|swerv\w*) " + gap(4) + r"(?:on purpose|(?:into|off) " + gap(2) + r"(?:tree|wall|traffic|oncoming|"
        r"river|lake|cliff|bridge|pole|truck|lorry|barrier|road))\b",
        r"\b(?:drink|drinking|starve|starving|bleed|bleeding|cut|cutting|use|using|take|taking) " + gap(3) +
        rf"until {_WHO} (?:die|dies|am dead|is dead|pass out and die)\b",
        r"\bhow (?:much|many) " + gap(6) + r"(?:would|will|could|is|are|does it take to) (?:be )?(?:fatal|lethal|"
        r"deadly|kill me|kill someone|kill a person|enough to die|enough to kill)\b",
        r"\b(?:roof|rooftop|bridge|building|cliff|balcony|window|overpass|tower|ledge|parking garage|car park)s? " +
        gap(6) + r"(?:to jump|jump) (?:from|off)\b",
        r"\b(?:gun|pistol|rifle|shotgun|revolver) (?:\S+ )?(?:is )?(?:loaded|in my hand|in my mouth|to my head|"
        r"ready|on the table|next to me|in front of me)\b|\bloaded (?:the |my |a )?(?:gun|pistol|rifle|shotgun)\b",
        r"\b(?:going to|gonna|will|want to|about to) (?:take|swallow) (?:it|them) all\b",
        r"\b(?:pills|tablets|meds|painkillers|gun|pistol|knife|razor|blade|blades|rope) (?:are|is) (?:\S+ )?"
        r"(?:in my hand|in front of me|ready|next to me|lined up|on the table)\b",
        r"\b(?:almost|nearly) (?:jumped|did it|went through with it|ended it|killed myself|overdosed)\b(?! out of)",
        r"\b(?:bridge|roof|ledge|edge|tracks|cliff|balcony) " + gap(6) + r"(?:almost|nearly) (?:jumped|did it|fell|"
        r"let go)\b",
        r"\b(?:going to|gonna|want to|about to|ready to|will) jump(?= [.,]|$| tonight| now)",
        r"\bmake (?:my|his|her|it|the) (?:death |suicide |dying )?look like an accident\b",
        rf"\b(?:if|when|once|before) {_WHO} (?:end|ended) it\b(?! (?:with|between|for|early|on|at|in|off|today)\b)",
        r"\b(?:swallow|swallowed|drink|drank|drinking|ingest\w*) " + gap(3) + r"(?:bleach|antifreeze|poison|"
        r"rat poison|drain cleaner|pesticide|weed killer|cyanide)\b",
        r"\b(?:way|ways) to (?:go|pass away|pass) (?:in (?:my|your|ones) sleep|peacefully|painlessly|quietly|forever)\b",
        r"\b(?:thought|think|thinking|planned|planning|figured|worked out|decided|know|chosen|picked) (?:about |out )?"
        r"(?:how|when|where) (?:i|to) (?:would |will |could |am going to )?do it(?= [.,]|$)",
        r"\bhow (?:high|far|many floors|many stories|many storeys|tall|long|much|many) " + gap(6) +
        r"(?:to die|to kill (?:you|someone|a person|me)|be fatal|be lethal|is fatal|is lethal)\b",
        r"\bhow (?:many|much) (?:of )?(?:my |these |the |her |his )?(?:\S+ )?(?:pills|tablets|meds|medication|"
        r"antidepressants|painkillers|sleeping pills|insulin) " + gap(3) + r"(?:would|will|is|are) (?:be )?enough\b"
        r"(?! to (?:help|treat|work|sleep|get)\b)",
        r"\b(?:have|got|grabbed|stole|collected|gathered|saved) " + gap(5) + r"all (?:of )?(?:my|the|her|his|\S+) "
        r"(?:\S+ )?(?:pills|tablets|meds|painkillers|sleeping pills)\b",
        r"\b(?:fastest|quickest|most painless|painless|strongest|deadliest|most lethal|untraceable) (?:acting )?"
        r"(?:poison|poisons|toxin|toxins)\b",
        r"\b(?:does|do|would|will|is|how much does) (?:\S+ )?(?:drowning|hanging|overdosing|an overdose|dying|"
        r"bleeding out|jumping|suffocating|freezing to death|slitting|being shot|shooting yourself|getting hit) "
        r"(?:\S+ )?(?:hurt|painful|feel like)\b",
        r"\b(?:fatal|lethal|deadly) " + gap(3) + r"(?:fall|jump|drop|height|floors|storeys|stories)\b|"
        r"\b(?:height|fall|floors|jump|drop) " + gap(3) + r"(?:fatal|lethal|deadly)\b",
        r"\b(?:want|wish|going|thinking|urge|tempted)\w* (?:to |about |of )?(?:just )?(?:walk|swim|drive|wade)\w* "
        r"(?:\S+ )?(?:into|out into|out to) (?:the )?(?:ocean|sea|lake|river|water|traffic)\b|"
        r"\b(?:ocean|sea|lake|river|water|traffic) and (?:just )?(?:keep going|never come back|not come back|"
        r"disappear)\b",
        r"\b(?:giv\w*|gave) away (?:all )?(?:of )?(?:my|his|her|their) (?:things|stuff|belongings|possessions|"
        r"everything)\b|\bgiv\w* away everything i (?:own|have)\b",
        r"\b(?:drafted|drafting|recorded|recording|prepared|preparing|scheduled|scheduling|wrote|written|writing) "
        r"(?:a |my |the )?(?:goodbye|good bye|farewell|final) (?:post|posts|video|videos|tweet|status)\b"
        r"(?![^.]{0,80}\b(?:leav\w*|moving|move|retir\w*|quit\w*|graduat\w*|new job|last day|coworkers|colleagues|team|"
        r"class|students|followers as)\b)",
        r"\b(?:i|i have|i am|i have been|she|he|she has|he has) (?:wrote|written|writing|write) " + gap(2) +
        r"(?:goodbye|good bye|farewell|final) (?:letters|notes)\b(?! (?:to|for) (?:my |the |all my |our )?(?:coworkers|"
        r"colleagues|team|students|class|classmates|boss|manager|clients|customers|pupils|neighbours|neighbors)\b)",
        r"\b(?:tie|tied|ties|tying|made|make|making|bought|buying|fashioned|knotted) (?:a |the |my |up a )?noose\b|"
        r"\bnoose (?:around|round) (?:my|his|her|their|your) neck\b|\bnoose (?:is )?(?:ready|hanging|from (?:the|a))\b|"
        r"\brope\b " + gap(10) + r"(?:do it|hang|neck|myself|tonight)\b",
        r"\b(?:stockpil\w*|hoard\w*|saving up|saved up|stash\w*|collecting|storing up) " + gap(2) +
        r"(?:pills|meds|medication|medications|tablets|sleeping pills|painkillers|prescriptions)\b",
        r"\b(?:have|got|holding|counted|counting|lined up) " + gap(3) + r"(?:pills|tablets|meds|painkillers) " +
        gap(2) + r"(?:in front of me|right here|ready|in my hand|next to me|lined up|with me now)\b",
        r"\b(?:took|taken|swallowed|swallow|take|taking|downed) (?:a bunch|a lot|all|the whole|a whole|too many|"
        r"handfuls|a handful|loads|dozens|way too many|lots) (?:of )?(?:\S+ )?(?:pills|tablets|meds|painkillers|"
        r"bottle|pack|packet)\b",
        r"\boverdos\w* (?:on \S+ )?" + gap(3) + r"(?:and|to) " + gap(2) +
        r"(?:fall asleep|die|not wake|never wake|end it|sleep forever)\b",
        r"\b(?:want|going|plan|planning|about|decided|try|trying|tried|attempt|attempted) to overdose\b|"
        r"\bthinking (?:about|of) (?:overdosing|an overdose|taking an overdose)\b",
        r"\b(?:jump\w*|leap\w*|throw\w* \S+self|yeet\w* \S+self|fling\w* \S+self|hurl\w* \S+self) (?:off|from) " +
        gap(2) + r"(?:roof|rooftop|bridge|building|cliff|balcony|window|overpass|tower|ledge|parking garage|car park|highest)\b",
        r"\b(?:throw\w*|yeet\w*|fling\w*|hurl\w*) (?:myself|himself|herself|themselves) (?:off|from|out of|out) " + gap(3) +
        r"(?:roof|rooftop|bridge|building|cliff|balcony|window|overpass|tower|ledge)\b",
        r"\b(?:jump\w*|step\w*|walk\w*|throw\w* \S+|lie|lying|lay|laying) (?:down )?in front of (?:a |the |an )?"
        r"(?:train|bus|truck|lorry|car|tram|subway)\b",
        r"\b(?:picked|chosen|chose|set|know) (?:a |the |my )?(?:date|day|time|place|spot|how i will do it|"
        r"how to do it|when i will do it|where i will do it)(?= \.|$)",  # a plan left unexplained
        r"\bstand\w* " + gap(3) + r"(?:edge|ledge|railing) " + gap(6) + r"(?:train|jump|let go|step off|fall)\b",
        r"\b(?:charcoal|carbon monoxide|co poisoning|exhaust|car fumes|fumes|grill|barbecue|bbq) " + gap(10) +
        r"(?:(?:windows?|doors?|vents?|gaps?|cracks?) (?:are |were )?(?:taped|sealed|blocked)|(?:tape|taped|taping|seal|"
        r"sealed|sealing|block|blocked|blocking) (?:up )?(?:the |all the )?(?:\S+ )?(?:windows?|doors?|vents?|gaps?|cracks?))\b",
        r"\b(?:tape|taped|taping|seal|sealed|sealing|block|blocked|blocking) (?:up )?(?:the |all the )?(?:\S+ )?"
        r"(?:windows?|doors?|vents?|gaps?|cracks?) " + gap(10) +
        r"(?:charcoal|carbon monoxide|exhaust|car fumes|fumes|grill|barbecue|bbq)\b",
        r"\b(?:car|engine|motor) " + gap(8) + r"(?:closed|shut|locked|sealed) garage\b|\b(?:closed|shut|locked|sealed) "
        r"garage " + gap(8) + r"(?:engine|motor) (?:running|on|idling)\b|\bgarage " + gap(8) + r"(?:with )?(?:the )?"
        r"(?:engine|motor) (?:running|on|idling)\b",
        r"\b(?:fall|falls|falling|fell|jump|jumps|jumping|jumped|drop|drops|dropping) (?:from|off) " + gap(3) +
        r"(?:stories|storeys|floors|meters|metres|feet|ft) " + gap(8) + r"(?:instant|instantly|quick|painless|survive|"
        r"survives|die|dies|fatal|lethal|dead|kill)\b",
        r"\b(?:is|would|will|does) it (?:\S+ )?(?:hurt|painful|quick|instant|peaceful|take long) (?:to )?(?:drown|hang|"
        r"bleed out|suffocate|freeze to death|overdose|die from|jump|fall)\b",
        r"\bhow (?:long|painful|quick|fast) " + gap(3) + r"(?:to drown|drowning)\b(?! (?:victim|survivor|child|kid)\b)",
        r"\bhow (?:much|many) " + gap(4) + r"(?:would it take|does it take|will it take|it takes|it would take) " + gap(4) +
        r"(?:stop breathing|stop (?:my|their|his|her|your|the) heart|not wake up|never wake up|die|be fatal|kill)\b",
        r"\b(?:hit by|jumping in front of|stepping in front of|step in front of|jump in front of) (?:a |the |an )?(?:\S+ )?"
        r"(?:train|truck|lorry|bus|subway|tram) " + gap(4) + r"(?:kill|kills|instant|instantly|survive|surviving|painless|"
        r"fatal|die)\b",
        r"\bhow (?:much|many) " + gap(8) + r"(?:would|will|could|to) do it (?:for|to) (?:a |an )?(?:grown )?(?:man|woman|"
        r"person|adult|human|someone|me)\b|\b(?:paraquat|pesticide|weed killer|weedkiller|antifreeze|rat poison|cyanide|"
        r"strychnine) " + gap(8) + r"(?:do it|kill|fatal|lethal|enough|how long does it take)\b",
        r"\b(?:will|would|could|does|can|might) (?:that|it|this|they|these|those) stop my heart\b",
        r"\b(?:drugs?|pills?|meds|medications?|medicines?|combination|mix|overdose|tablets) " + gap(6) + r"(?:stop (?:a|my|the|"
        r"his|her|someones|a persons) heart|stop (?:me|him|her|someone) breathing)\b",
        r"\b(?:would|will|could|can|enough to) kill (?:an adult|a grown (?:man|woman|adult|person)|a person|a human|a man|"
        r"a woman)\b",
        r"\b(?:cut|cuts|wound|wounds|burn|burns) " + gap(6) + r"(?:i did (?:it|them|this) (?:to )?myself|did (?:it|them) to "
        r"myself|self inflicted)\b",
        r"\b(?:bridge|golden gate|roof|rooftop|overpass|balcony|cliff|viaduct|car park) " + gap(12) + r"(?:get|climb|go|jump|"
        r"hop) (?:over|past|under) (?:the )?(?:rail|railing|railings|barrier|barriers|parapet|fence|net|netting)\b|"
        r"\b(?:bridge|golden gate|overpass|viaduct) " + gap(3) + r"without (?:the )?(?:net|netting|barrier|barriers|fence)\b",
        r"\bone ?way (?:trip|ticket|drive|walk) to (?:the )?(?:\S+ )?(?:bridge|cliff|cliffs|tracks|roof|edge)\b",
        r"\b(?:method|methods|ways?) " + gap(4) + r"(?:highest|greatest|best|most) (?:\S+ )?(?:fatality|lethality) "
        r"rates?\b|\b(?:most|more) (?:lethal|fatal|deadly) (?:method|methods|way|ways)\b",
    ),
    "self-harm": squeezed(
        r"\bself ?(?:harm|harming|harmed|injur\w*|mutilat\w*)\b",
        rf"\b{_INJURE[:-1]}|starve|starving|starved|punish|punishing|punished) {_SELF}\b",
        r"\b(?:cut|cuts|cutting|slit|slitting|slash\w*|carv\w*|burn\w*|scratch\w*) " + gap(2) +
        rf"(?:my|her|his|their|your) (?:own )?{_BODY}\b",
        r"\b(?:scars|cuts|cut marks|burns|marks|bruises|wounds) (?:\S+ )?on " + gap(2) + rf"{_BODY}\b",
        r"\b(?:cut|cuts|cutting|hurt|hurting|burn|burns|burning|burned|hit|hitting|scratch\w*|bruise\w*|wound|wounds|"
        r"crash|crashing|crashed|drive|driving|drove|overdos\w*|took|swallowed|jumped|drank)"
        r"\b " + gap(6) + r"(?:on purpose|deliberately|intentionally)\b",
        r"\b(?:relaps\w*|urges?|urge to) " + gap(2) + r"(?:cut|cutting|self harm\w*|sh|hurt myself|burn myself)\b",
        r"\b(?:when|whenever|if) (?:i|she|he) (?:am|is|feel|feels|get|gets) (?:very |so |really |too )?(?:stress\w*|angry|"
        r"sad|upset|overwhelmed|anxious|low|numb|panicky) (?:i|she|he) (?:burn|burns|cut|cuts|hit|hits|scratch\w*|hurt|"
        r"hurts) (?:myself|herself|himself|(?:my|her|his) (?:\S+ )?(?:hand|hands|arm|arms|leg|legs|wrist|wrists|skin|face|"
        r"head|thigh|thighs|stomach))\b",
        rf"\b{_WHO} " + gap(2) + r"(?:cut|cutting|harming) again\b",
        r"\b(?:cut|cutting|cuts) (?:deeper|harder)\b|\b(?:my|her|his|their) cuts " + gap(3) + r"(?:deeper|worse|more often)\b",
        r"\b(?:has|have|had|is|was|started|starts|keeps|kept) (?:been )?cutting(?= [.,]|$| again| herself| himself| "
        r"themselves| (?:her|his|their) (?:arms|wrists|legs|thighs))",
        r"\b(?:until|till|til|untill) (?:it|they|i|she|he|(?:my|her|his|their) \S+) (?:bleed|bleeds|bled|bruise|"
        r"bruises|bruised|break|breaks|split|splits)\b",
        r"\b(?:razor|razors|blade|blades|knife|lighter|scissors|glass|compass) " + gap(2) + r"(?:on|to|into|across) "
        rf"(?:my|her|his|their) (?:\S+ )?{_BODY}\b",
        r"\b(?:need|needs|want|wants|urge|urges|tempted|itching|craving) (?:to )?cut(?= [.,]|$| again| so bad)",
        r"\bhow deep " + gap(4) + r"cut\b(?! (?:the|a|an|into|through|onions?|tomato\w*|wood|board|grass)\b)",
        r"\b(?:until|till|til) (?:it|they|i|she|he|(?:my|her|his|their) \S+) (?:goes|go|turns?|turned|went|gets?) "
        r"(?:purple|black and blue|blue|numb|raw)\b",
        r"\b(?:hit|hits|hitting|bang|bangs|banging|banged|slam|slams|slamming|slammed|smash\w*) (?:my|her|his|their) "
        r"head (?:against|on|into) (?:the |a )?(?:wall|walls|floor|door|desk|table|mirror) " + gap(3) +
        r"(?:when|whenever|every time|each time|until|till) (?:i|she|he|they|it) (?:get|gets|feel|feels|am|is|are|"
        r"bleed|bleeds|hurt|hurts|bruise|bruises|panic|panics|can not)\b|\b(?:hit|hitting|bang|banging|slam|slamming)\w* "
        r"(?:my|her|his|their) head " + gap(6) + r"(?:several|many|five|ten|a few|few|multiple) times a (?:day|night|week)\b",
        r"\b(?:i|she|he|they) used to (?:cut|self harm|harm myself|hurt myself|burn myself|scratch myself)"
        r"(?! (?:my|her|his|their|the|a|an|hair|wood|grass|paper|class|classes|school|corners|coupons|ties)\b)",
    ),
}
CUES: dict[str, tuple[str, ...]] = {  # one alone proves little; two kinds together are a crisis
    "farewell": squeezed(
        r"\b(?:goodbye|good bye|bye|farewell|last|final) (?:letter|letters|note|notes|message|messages|video|videos|"
        r"post|posts|text|texts|email|emails|card|cards)\b",
        r"\b(?:texted|messaged|told|wrote|sent|said) " + gap(2) + r"goodbyes?\b|"
        r"\b(?:goodbye|bye|farewell) (?:everyone|everybody|world|all|forever)\b",
        r"\b(?:say|saying|said|says) goodbye to (?:everyone|everybody|my family|my kids|my friends|the world|them all|people|"
        r"friends|family)\b",
        r"\b(?:wrote|written|writing|write|left|leave) (?:a |my |the )?note\b",
        r"\b(?:scheduled|schedule|scheduling) (?:an |a )?(?:email|message|post|text|tweet) " + gap(5) + r"(?:explaining "
        r"everything|to everyone|for after|for when)\b",
        r"\bbecome a statistic\b",
        r"\bif (?:anyone|anybody|someone|somebody) (?:ever )?(?:reads|finds|sees|gets) (?:this|these|my)\b",
        r"\b(?:thank you|thanks) for everything\b|\btake care of (?:yourself|yourselves)(?= [.,]|$)",
    ),
    "giving-away": squeezed(
        r"\bgave (?:me|us|her|him|them) (?:his|her|their) (?:\S+ )?(?:watch|ring|jewel\w*|guitar|car|savings|"
        r"things|stuff|belongings|possessions|pets?|cat|dog)\b",
        r"\b(?:giv\w*|gave) away (?:all )?(?:of )?(?:my|his|her|their) (?:\S+ )?(?:things|stuff|belongings|"
        r"possessions|guns?|collection|pets?|cat|dog|clothes|books|plants|jewel\w*|everything)\b|\bgiv\w* away everything\b|"
        r"\bgiv\w* (?:\S+ )?(?:stuff|things|belongings|possessions|everything) away\b",
        r"\b(?:giv\w*|hand\w*) (?:all )?(?:of )?my (?:\S+ ){0,2}(?:skins|account|accounts|games|gear|stuff|things|belongings|"
        r"collection) (?:\S+ ){0,4}to (?:my|a|his|her|their)\b",
    ),
    "no-need": squeezed(
        r"\b(?:will not|not going to|would not|will no longer) need (?:them|it|this|these|those|that|anything|"
        r"any of (?:it|this|them))\b",
        r"\b(?:will not|not going to|would not|do not|will no longer) need " + gap(2) +
        r"(?:any ?more|soon|much longer|where i am going)\b",
    ),
    "resolve": squeezed(
        r"\b(?:made up my mind|mind is made up|no turning back|decided (?:that )?(?:tonight|today|tomorrow|this is it)|"
        r"tonight is the night|at peace with (?:my|the|this) decision|made (?:my )?peace with (?:it|that|everything)|"
        r"it is decided|go through with it)\b",
        r"\bi am (?:so )?(?:ready|done)(?: to go| now)?(?= [.,]|$)|\bi (?:have )?decided(?= [.,]|$)|"
        r"\b(?:i have|i) had enough(?= [.,]|$| of (?:waiting|living|life|this life|it all|everything|this world))|\b(?:i will|i wil|i can|i ll) (?:finally )?be (?:at peace|free)\b|"
        r"\b(?:want|ready|going) to (?:just )?let go(?= [.,]|$)",
    ),
    "finality": squeezed(
        r"\b(?:the last|last) time (?:i|i will|i am going to) (?:message|text|write to|talk to|speak to|reach out to) "
        r"(?:anyone|anybody|you|you all|everyone)\b",
        r"\b(?:last|final) (?:meal|supper|goodbye|words|sunset)\b|\bthis is the end(?= [.,]|$)",
        r"\b(?:it|this|everything|the pain|my pain|it all|all of this) " + gap(2) +
        r"(?:be|is) over (?:soon|tonight|tomorrow|shortly)\b",
        r"\b(?:will not|not going to) (?:bother|trouble|burden) (?:you|anyone|them|everyone) (?:again|any ?more)\b",
        r"\b(?:before|after|when|once) (?:i am|i m) (?:gone|dead|not here|not around)\b",
        r"\bbefore i (?:go|die|leave for good|end it)\b(?! (?:to|on|out|back|home|into|in|for|and|shopping|away)\b)",
    ),
    "absolution": squeezed(
        r"\b(?:not|never) (?:your|their|his|her|anyones|my \S+) fault\b|\bnone of (?:it|this|that) (?:was|is|were) "
        r"(?:ever )?(?:your|their|his|her|anyones|my \S+) fault\b",
        r"\b(?:tell|let) (?:them|him|her|my \S+|everyone) " + gap(2) + r"(?:i love (?:them|him|her|you|everyone)|"
        r"i am sorry)\b|\bi am sorry for everything\b",
        r"\b(?:look after|take care of) (?:my|the) (?:cat|dog|kids|children|pets|plants) for me\b",
        r"\b(?:look after|take care of) (?!my |the )[a-z]+ for me\b" + _AWAY,  # a pet's or a child's name
    ),
    "unreachable": squeezed(
        r"\b(?:not|stopped|no longer) (?:answering|responding|replying|picking up)\b",
        r"\b(?:she|he|they) (?:will not|would not|does not|do not|did not) (?:answer|respond|reply|pick up)\b",
        r"\b(?:can not|could not) (?:reach|get hold of|get through to) (?:her|him|them)\b",
        r"\b(?:has not|have not|had not) (?:answered|replied|picked up|responded|been online)\b",
    ),
    "death-talk": squeezed(r"\b(?:talk|talking|talks|talked|joking|jokes|joked|posting|posts|writing|writes) "
                       r"(?:a lot )?about (?:death|dying|his death|her death|their death|not being here)\b"),
    "means": squeezed(r"\b(?:cleaned|cleaning|loaded|loading|oiled|took out|got out|checked) (?:my|the|his|her|dads|"
                  r"grandpas) (?:old )?(?:pistol|gun|rifle|shotgun|revolver|service weapon)\b|"
                  r"\b(?:get|buy|obtain|find) (?:a )?(?:gun|pistol|firearm|rope|noose|barbiturates) (?:quickly|fast|"
                  r"today|tonight|without|asap|right now)\b"),
    "timed": squeezed(r"\b(?:going to|gona|will|plan to|planning to) do it (?:tonight|tomorrow|this weekend|today|soon|"
                  r"this week)(?= [.,]|$)"),
    "heights": squeezed(r"\b(?:tallest|highest) (?:bridge|building|buildings|cliff|tower|structure|parking garage|"
                    r"car park)s?\b"),
    "depth": squeezed(r"\b(?:deep|high|tall) enough\b"),
    "drowning": squeezed(r"\b(?:i am|i feel like i am|feel like i am|i feel like) (?:\S+ )?drowning\b(?! in)"),
    "afterlife": squeezed(r"\b(?:heaven|afterlife|the other side)\b"),
    "reunion": squeezed(r"\b(?:i will|i am going to|going to|i will be) (?:be )?(?:seeing|see) (?:him|her|them) (?:soon|this "
                    r"weekend|tonight|tomorrow|again)\b|"
                    r"\b(?:like|want|wish|long|ready|time|going) to (?:go and )?(?:join|be with) (?:her|him|them)"
                    r"(?= [.,]|$| soon| again)|\btime (?:i|for me to) (?:went|go|left) to be with\b|"
                    r"\b(?:want|ready|going) to be there soon\b|\b(?:be with|join|see) (?:my )?(?:late )?(?:dad|mom|"
                    r"mum|father|mother|wife|husband|son|daughter|grandma|grandpa|him|her|them)(?: again| soon)\b"),
    "pointless": squeezed(r"\b(?:what is|why) (?:even )?the point(?= [.,]|$)|"
                      r"\b(?:want|going|ready) to give up(?= [.,]|$)"),
    "absence": squeezed(r"\b(?:will not|not going to|may not|might not) be (?:here|around) for (?:the|my|your|his|her) "
                    r"\S+" + _AWAY),
    "relapse": squeezed(r"\brelaps\w*"),
    "blade": squeezed(r"\b(?:the blade|the blades|the razor|the razors|blade|blades|razor|razors)(?= [.,]|$)"),
    "reassured": squeezed(r"\b(?:say|says|saying|said|tell me|tells me|telling me|told me) (?:that )?(?:it|things|"
                      r"life) (?:will )?gets? better\b"),
    "bereaved": squeezed(r"\bbeen gone (?:for )?(?:\S+ )?(?:years|months|weeks)\b|"
                         r"\b(?:my|our) (?:\S+ )?(?:wife|husband|partner|son|daughter|mom|mum|dad|mother|father|boy|"
                         r"girl|fiance|fiancee|grandad|granddad|grandpa|grandma|gran|nan|nana|grandmother|grandfather|"
                         r"brother|sister|friend|best friend) (?:passed|died|passed away)\b"),
    "no-return": squeezed(r"\b(?:not|never) (?:planning|plan|going|intending) (?:on |to )?(?:driving|coming|going|walking|"
                          r"getting|flying) (?:back|home)\b|\bone ?way (?:trip|ticket)\b|\bcheck(?:ing)? out early\b"
                          r"(?! (?:from|of|at|tomorrow|on|to|this|the)\b)"),
    "affairs": squeezed(r"\b(?:made|making|make|wrote|writing|write|written|updated|updating|finished|sorted|put) "
                    r"(?:out )?(?:all )?(?:my|his|her) (?:will|affairs|passwords)\b|\btie up (?:loose ends|everything|all)\b|"
                    r"\b(?:deleted|deleting|closed|closing|cancel\w*) (?:all )?(?:my|his|her) (?:socials|social media|accounts|"
                    r"phone contract)\b|\baffairs (?:are |is )?in order\b"),
    "planning": squeezed(
        r"\b(?:planning|plan|planned|figured out|figuring out|decided|know|chosen|chose|picked|worked out) " + gap(2) +
        r"(?:how|when|where) (?:i am going to |i will |i would |to )?do it\b",
        r"\b(?:picked|set|chosen|chose) (?:a|the) (?:date|day|time|spot|place)\b",
        r"\b(?:before|when|once|after) i (?:finally )?do it\b|\bi (?:will )?finally do it\b",
    ),
    "hiding": squeezed(r"\b(?:wearing|wears|wear|wore) long sleeves " + gap(3) +
                   r"(?:summer|july|august|june|heat|hot weather|heatwave)\b"),
    "death-imagery": squeezed(r"\b(?:final|eternal|endless|permanent|forever|long) sleep\b"),
    "calm": squeezed(r"\b(?:feel|felt|feeling|sounded|seemed|seems|sounds|was|is) (?:so |really |strangely |weirdly |"
                     r"oddly |very |suddenly )?(?:calm|peaceful|at peace)\b(?! (?:about|after|during|with|in|at)\b)"),
    "letters": squeezed(r"\bletters (?:for|to) (?:the|my) (?:kids|children|family|wife|husband|parents|girls|boys)\b|"
                        r"\b(?:wrote|written|writing) (?:\S+ )?(?:letters|a letter|notes|a note) to (?:my|each of my|"
                        r"all my|each) (?:\S+ )?(?:sisters?|brothers?|parents|kids|children|family|mom|mum|dad|wife|husband|"
                        r"friends|partner|siblings)\b"),
    "rehoming": squeezed(r"\b(?:gave|given|giving|rehomed|rehoming) (?:away )?(?:my|our) (?:\S+ )?(?:cat|cats|dog|dogs|"
                         r"pets?|guitar|car|savings|watch|ring|jewel\w*|collection|plants) (?:away )?to\b"),
    "shame": squeezed(r"\b(?:can not|could not|can never|will never be able to) face (?:them|my parents|my family|anyone|"
                      r"him|her|my (?:mom|mum|dad|wife|husband))\b"),
    "trains": squeezed(r"\b(?:express|train|trains|freight) (?:\S+ ){0,3}(?:that|which) (?:does not|do not|will not|never) "
                       r"(?:stop|slow down)\b|\b(?:which|what) (?:express |freight |fast )?(?:train|trains)(?: lines?| services?)? "
                       r"(?:does not|do not|will not|never) (?:stop|slow down)\b"),
    "deflection": squeezed(r"\b(?:for|just|personal) reasons(?= [.,]|$)|\bnot from (?:the|a|my|this) (?:hotel|hostel|motel|"
                           r"airbnb|party|job|library|shop|store|office|gym|club)(?= [.,]|$)|\bdo not mean (?:the|a|my|this) "
                           r"(?:hotel|hostel|motel|airbnb|party|job|library|shop|store|office|gym|club)(?= [.,]|$)"),
    "method-known": squeezed(r"\b(?:know|knows|decided) exactly (?:what|which|how) (?:i|she|he) (?:would|will|am going to|"
                             r"is going to|could) (?:use|take|do)(?= [.,]|$)"),
    "taking-home": squeezed(r"\b(?:taking|take|took|bringing|bring|pocketing|pocket|putting|put|setting|set) (?:a little|some|"
                            r"a few|one or two|a couple|one) (?:home|aside|away)\b(?= [.,]| at| after| from| each| every)"),
    "pet-sorted": squeezed(r"\b(?:the|my) (?:cat|cats|dog|dogs|pets?|fish|rabbit) (?:is |are |been |has been |have been )?(?:sorted|"
                           r"taken care of|looked after|rehomed|arranged)\b(?! (?:for|while|during|until|when)\b)" + _AWAY),
    "looking-down": squeezed(r"\b(?:standing|stood|stands|stand|sitting|sat|sits) (?:on|at|by) (?:the|a) (?:\S+ )?(?:bridge|ledge|"
                             r"roof|rooftop|edge|cliff|railing|overpass|balcony)\b " + gap(8) + r"looking down\b"),
    "worried-about": squeezed(r"\bshould i (?:take (?:it|this|that|her|him|them) seriously|be worried|worry|be concerned)\b|"
                              r"\b(?:laughed|laughs|joked|jokes) (?:it off|and changed the subject)\b"),
    "game-over": squeezed(r"\bgame over for me(?= [.,]|$)"),
    "no-respawn": squeezed(r"\b(?:no|without) (?:more )?respawns?\b|\brespawns? (?:disabled|off|turned off|is off)\b|"
                           r"\b(?:will not|can not|do not|never) respawn\b"),
    "cover-story": squeezed(r"\bnot (?:for|about) (?:a |my |the )?(?:school |uni |university |class |college )?(?:project|"
                            r"essay|assignment|story|novel|book|research|homework|paper)(?= [.,]|$)|\bnot the (?:novel|book|story|"
                            r"game|character|project)(?= [.,]|$)"),
    "toxicity": squeezed(r"\b(?:meds|medications|medicines|pills|drugs|tablets|painkillers) " + gap(3) + r"(?:cause|causes|"
                         r"causing|lead to) (?:\S+ )?(?:liver|kidney|organ|heart|respiratory) (?:failure|damage|arrest)\b"),
    "mixing": squeezed(r"\b(?:meds|pills|medication|sleeping pills|painkillers|xanax|valium|ativan|klonopin|benzos|tablets|"
                       r"antidepressants|opioids|oxy\w*) (?:with|and|plus) (?:a bottle of |a lot of |some |half a bottle of )?"
                       r"(?:vodka|alcohol|whisky|whiskey|wine|booze|beer|gin|rum|tequila)\b"),
    "indifference": squeezed(r"\b(?:do not|does not|did not) (?:really |even )?care (?:what happens|if i wake up|whether i wake "
                             r"up|if i make it|if i survive|if i live)\b"),
    "attempt-history": squeezed(r"\b(?:survived|after|since) (?:an|my|a|the) (?:suicide )?attempt\b(?! (?:at|to|on (?!my life))\b)|"
                                r"\bmy (?:last|first|previous|second|third) (?:suicide )?attempt\b(?! (?:at|to)\b)"),
    "bridge-tonight": squeezed(r"\b(?:going|headed|heading|went) to (?:the )?(?:\S+ ){0,2}bridge (?:tonight|now|alone|at "
                               r"night)\b"),
}
