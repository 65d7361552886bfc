"""The on-device check that counted text is English prose (language, script, code, numbers)."""

from __future__ import annotations

import pytest

from edge_client.text.features import TextCounts, extract
from edge_client.text.language import TextLanguage, check_language

# Written for these tests (no corpus text): everyday sentences in ten Latin-script languages
# and six other scripts.
OTHER_LANGUAGES = {
    "de": "Ich habe den Akkuschrauber letzte Woche gekauft und bin wirklich zufrieden. Der Akku "
    "hält lange, das Gewicht ist angenehm und die Verarbeitung wirkt solide. Nur das Ladegerät "
    "ist etwas langsam, aber für den Preis kann man nicht meckern.",
    "fr": "Nous sommes partis en vacances avec toute la famille au bord de la mer. Les enfants "
    "ont adoré la plage et nous avons mangé des fruits de mer chaque soir. C'était un séjour "
    "magnifique que nous n'oublierons jamais.",
    "es": "Ayer fuimos al partido de fútbol con mis amigos y el equipo ganó en el último minuto. "
    "El estadio estaba lleno y la gente cantaba sin parar. Fue una noche increíble que "
    "recordaremos durante mucho tiempo.",
    "it": "Ho provato la nuova ricetta della nonna per il ragù e devo dire che è venuta "
    "benissimo. Il segreto è cuocere la carne a fuoco lento per almeno tre ore, mescolando "
    "ogni tanto e aggiungendo un po' di vino rosso.",
    "pt": "Comprei um telemóvel novo no mês passado e estou muito contente com a bateria e com "
    "a câmara. O ecrã é grande e bonito, mas o preço foi um pouco alto para o meu orçamento "
    "deste ano.",
    "nl": "Gisteren ben ik met de fiets naar het werk gegaan omdat het zulk mooi weer was. "
    "Onderweg zag ik veel mensen die hetzelfde deden, en ik denk dat ik dit vaker ga doen in "
    "de zomer.",
    "sv": "Vi åkte till fjällen i helgen och vandrade längs en vacker led med utsikt över sjön. "
    "Vädret var perfekt och vi lagade middag över öppen eld innan vi somnade i tältet under "
    "stjärnorna.",
    "pl": "W zeszłym tygodniu kupiłem nowy rower górski i od razu pojechałem na długą wycieczkę "
    "po lesie. Hamulce działają świetnie, a przerzutki zmieniają biegi bardzo płynnie nawet pod "
    "górę.",
    "tr": "Geçen hafta sonu arkadaşlarımla birlikte İstanbul'da küçük bir gezi yaptık. Boğaz'da "
    "vapura bindik, tarihi yerleri gezdik ve akşam yemeğinde çok lezzetli balık yedik.",
    "id": "Kemarin saya pergi ke pasar bersama ibu untuk membeli sayur dan buah segar. Harganya "
    "cukup murah dan penjualnya sangat ramah, jadi kami membeli lebih banyak dari yang "
    "direncanakan.",
    "zh": "我昨天和朋友一起去看了篮球比赛，主队在最后一分钟赢得了比赛，大家都非常兴奋。",
    "ja": "昨日は友達と一緒に新しいカフェに行きました。"
    "コーヒーがとても美味しくて、また行きたいと思います。",
    "ru": "Вчера мы с друзьями ходили в кино на новый фильм. Сюжет был интересным, а актёры "
    "сыграли просто великолепно.",
    "th": "เมื่อวานฉันไปตลาดกับแม่เพื่อซื้อผักและผลไม้สดราคาไม่แพงและแม่ค้าใจดีมาก",
    "ar": "ذهبت أمس إلى السوق مع أمي لشراء الخضار والفواكه الطازجة وكانت الأسعار مناسبة جدا",
    "ko": "어제 친구들과 함께 새로운 식당에 가서 맛있는 음식을 먹었습니다. 분위기도 좋고 가격도 "
    "적당했습니다.",
}
ENGLISH = (
    "I compared three cordless drills over two weeks before deciding which one to keep.",
    "Honestly I cried when I opened it! My grandmother used to have the same one.",
    "Oil prices rose on Tuesday after the report, and stocks fell in early trading.",
    "What a game last night: the pitcher struck out eleven and the team won in the ninth.",
)
CODE = (
    "def area(radius):\n    return 3.14159 * radius ** 2\n\nfor r in range(10):\n"
    "    print({'r': r, 'area': area(r)})\n"
)


@pytest.mark.parametrize("code", sorted(OTHER_LANGUAGES))
def test_other_languages_are_not_english(code: str) -> None:
    """Each non-English sample is recognised as another language, with a note that says so."""
    check = check_language(extract(OTHER_LANGUAGES[code]))
    assert check.language is TextLanguage.OTHER and not check.readable
    assert "English" in check.note()


@pytest.mark.parametrize("text", ENGLISH)
def test_english_sentences_are_english(text: str) -> None:
    """Ordinary English sentences, short or long, are readable."""
    assert check_language(extract(text)).readable


def test_code_numbers_and_emoji_are_not_prose() -> None:
    """Code and number lists are not prose; emoji and empty text have no words."""
    assert check_language(extract(CODE)).language is TextLanguage.NOT_PROSE
    numbers = check_language(extract("12 345 6789 10.5 3,000 42 7 8 9"))
    assert numbers.language is TextLanguage.NOT_PROSE and "numbers" in numbers.note()
    for text in ("", "   ", "\U0001f600\U0001f389\U0001f44d", "!!! ??? ..."):
        assert check_language(extract(text)).language is TextLanguage.NO_WORDS
    assert check_language(TextCounts()).language is TextLanguage.NO_WORDS


def test_verdict_is_the_same_for_posts_and_their_sum() -> None:
    """The check reads additive counts: fifty posts and one text of them agree."""
    german = OTHER_LANGUAGES["de"].split(". ")
    total = TextCounts()
    for sentence in german * 3:
        total.add(extract(sentence))
    assert check_language(total).language is TextLanguage.OTHER
    assert check_language(extract(". ".join(german * 3))).language is TextLanguage.OTHER


def test_a_little_foreign_text_in_english_stays_english() -> None:
    """An English text quoting a few words of another script is still English."""
    text = ENGLISH[0] + " My friend wrote 你好 on the box, which means hello."
    assert check_language(extract(text)).readable


def test_notes_never_quote_the_text() -> None:
    """The note gives shares and counts, never the words themselves."""
    for text in (*OTHER_LANGUAGES.values(), CODE):
        note = check_language(extract(text)).note()
        assert not any(word in note for word in ("Akkuschrauber", "篮球", "radius", "Вчера"))
