"""The lecture's Chinese narration (issue 14, item 6): each of the seed page's 13 quotes appears
exactly once in the book (notebooks and prose pages), whole, with an English translation beside it,
and no other 中文 line appears. The quotes are read from the seed page when it is present
($M2D_SEED_TEXT, or the path below) and otherwise from the frozen copy here, which a test keeps
equal to the seed."""

import json
import os
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = Path(os.environ.get("M2D_SEED_TEXT", "/work/shared/seed/000_953ea38b2a3dbb36.txt"))

#: The seed's 13 quotes in the page's order (frozen, for a checkout without the seed).
QUOTES = (
    "它们在解同一个数学问题。这个问题的答案,七十年里只换了三次。从骰子,到注意力,到噪声。",
    "1957年,希勒和艾萨克森在伊利诺伊大学的Illiac计算机上做了一个实验。他们把十二个音高排成一圈。"
    "第四期讲过,这就是Z 12,十二元循环群。然后给每对音之间分配一个转移概率。",
    "生成旋律的方法:站在当前音,按概率掷骰子,跳到下一个音。重复。这就是马尔可夫链。"
    "本质上,1957年的AI作曲,就是在Z 12上掷加权骰子。",
    "结果听起来怎么样?局部像音乐,整体没记忆。因为马尔可夫链只看上一步。…副歌回来、主题发展——它全抓不住。",
    "真正的突破要等到2017年。Transformer的核心是注意力机制。关键直觉是这样的:马尔可夫链有一张固定的转移"
    "概率表,每行加起来等于一。注意力机制也有这样一张表——但它不是固定的,而是根据当前内容实时算出来的。",
    "换句话说,Transformer把固定概率表变成了动态概率表。",
    "第三次跳跃更反直觉。…扩散模型…从一整片纯噪声开始,一步一步去掉噪声,逐步还原出音乐的结构。",
    "最反直觉的是:扩散的前向加噪过程,数学上就是一个马尔可夫链。…只不过状态不再是12个离散的音高,"
    "而是一整片连续的噪声。",
    "横轴是开放还是闭源。纵轴是用离散token做自回归,还是用连续空间做扩散。",
    "三集,同一个问题:怎么把音乐变成概率模型能操作的对象?",
    "今天的模型大战,本质是表示大战——音乐到底该写成token,还是雕成连续潜空间?",
    "Riffusion:先把声音变成频谱图——一张二维的图片。然后用图片扩散模型去生成新的频谱图…",
    "七个模型,表面上各有各的招。但底层数学只有两条路:要么把音乐切成token一个一个预测,"
    "要么把音乐当作连续空间整体雕刻。",
)

SEED_QUOTE = re.compile(r"中文:\s*“(.+?)”")
BOOK_QUOTE = re.compile(r"^>?\s*中文\s*[::]\s*[\"“](.*?)[\"”]\s*$")


def seed_quotes(text: str) -> list[str]:
    return [m.group(1).strip() for line in text.splitlines() if "中文" in line
            for m in [SEED_QUOTE.search(line)] if m]


def book_texts() -> list[tuple[str, str]]:
    """(where, text) for every Markdown cell of the chapters and every prose page."""
    out = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for i, c in enumerate(json.loads(path.read_text())["cells"]):
            out.append((f"{path.name} cell {i} ({c['cell_type']})", "".join(c["source"])))
    out += [(p.name, p.read_text()) for p in sorted((ROOT / "book").glob("*.md"))]
    return out


def book_quotes() -> list[tuple[str, str, str]]:
    """(where, quote, the line after the next) for every 中文 line of the book."""
    found = []
    for where, text in book_texts():
        lines = text.splitlines()
        for k, line in enumerate(lines):
            if "中文" not in line:
                continue
            m = BOOK_QUOTE.match(line.strip())
            assert m, f"{where}: a 中文 line that is not a quoted epigraph: {line[:60]!r}"
            after = " ".join(lines[k + 1:k + 3])
            found.append((where, m.group(1).strip(), after))
    return found


def expected_quotes() -> list[str]:
    return seed_quotes(SEED.read_text()) if SEED.exists() else list(QUOTES)


def test_the_frozen_copy_is_the_seeds():
    if not SEED.exists():
        pytest.skip(f"seed page not found at {SEED} (set M2D_SEED_TEXT); the frozen copy is used")
    quotes = seed_quotes(SEED.read_text())
    assert len(quotes) == 13
    assert quotes == list(QUOTES)


def test_every_quote_appears_exactly_once_and_whole():
    expected = expected_quotes()
    assert len(expected) == 13
    found = book_quotes()
    counts = Counter(q for _, q, _ in found)
    missing = [q[:20] for q in expected if counts[q] == 0]
    twice = {q[:20]: [w for w, x, _ in found if x == q] for q in expected if counts[q] > 1}
    foreign = [(w, q[:30]) for w, q, _ in found if q not in expected]
    assert not missing, f"quotes missing from the book: {missing}"
    assert not twice, f"quotes used more than once: {twice}"
    assert not foreign, f"中文 lines that are not one of the seed's quotes (cut or altered?): {foreign}"


def test_every_quote_has_an_english_translation():
    for where, quote, after in book_quotes():
        assert "English:" in after, f"{where}: no English translation after 「{quote[:15]}…」"


def test_the_parser_sees_cut_and_doubled_quotes():
    assert BOOK_QUOTE.match('> 中文:"三集,同一个问题"').group(1) == "三集,同一个问题"
    assert seed_quotes("中文: “甲。”\nEnglish\n中文: “乙”") == ["甲。", "乙"]
