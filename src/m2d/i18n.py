"""The widgets' words in the reader's language (issue 17): English by default, Chinese for ``zh``.

A book page is executed once and shown in both editions (the Chinese notebooks' code cells are the
English ones), so a widget cannot choose its language when it is computed. Instead:

- a frame player (:mod:`m2d.static`) carries the Chinese forms of its title, controls, values and
  captions beside the English ones, and its script shows them on a page whose ``<html lang>`` is
  Chinese;
- a live widget (:mod:`m2d.live`) carries :data:`RULES` (as :func:`rules_json`) and its script
  translates every text it writes with the same rules (``live.tr`` in ``js/live_common.js``; a
  browser test holds it equal to :func:`translate`);
- in a kernel (Jupyter, Binder, Colab) the language is ``$M2D_LANG`` or :func:`set_lang`, and the
  widgets' messages pass through :func:`tr`.

The rules are ordered ``(pattern, replacement)`` pairs: a regular expression in the syntax Python and
JavaScript share (groups, classes, ``\\b``, no look-behind) and a replacement naming groups ``{1}``,
``{2}``, ... Every rule is applied to the whole text, in order. Words not covered stay English.

Notebook: every chapter with a widget (the Chinese edition: zh/notebooks/)
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from typing import Any

LANGS = ("en", "zh")
_lang: str | None = None

_NUM = r"(-?[\d.]+(?:e[-+]?\d+)?)"  # a number as the widgets print it
_MARK = r"^(?:[⚠✓] )?"  # the status mark before a widget's message (⚠ error, ✓ fine)
_STATIC = "（静态版本：{1}；在 Jupyter、Binder 或 Colab 中每个数都可以修改）"

#: (pattern, replacement) pairs, applied in order; see the module docstring.
RULES: list[tuple[str, str]] = [
    # -- frame players: titles ---------------------------------------------------------------
    (r" \(static version: ([^;()]*(?:\([^()]*\)[^;()]*)*); in Jupyter, Binder or Colab every "
     r"number can be changed\)", _STATIC),
    (r"Attention explorer \(static version: query (\d+) of melody (\d+): (\S+) \((\d+) notes\); "
     r"every layer x head\)",
     "注意力探索器（静态版本：旋律 {2}（{3}，{4} 个音符）的第 {1} 个查询；每层 × 每头）"),
    (r"Transition-matrix editor \(static version: presets x seeds\)",
     "转移矩阵编辑器（静态版本：预设 × 种子）"),
    (r"P\^n explorer \(static version: chains x n\)", "P^n 探索器（静态版本：链 × n）"),
    (r"One motif, three composers \(static version: motifs x seeds\)",
     "一个动机，三位作曲者（静态版本：动机 × 种子）"),
    (r"Noise-schedule explorer \(static version: schedule x t, T = (\d+)\)",
     "噪声调度探索器（静态版本：调度 × t，T = {1}）"),
    (r"^Attention of C, E and G", "C、E、G 的注意力"),
    (r"^The toy chain on \{C, E, G\}: P\^n and pi", "{C, E, G} 上的玩具链：P^n 与 pi"),
    (r"^One pixel under the forward process", "前向过程中的一个像素"),
    (r"move (\S+?)；", "拖动 {1}；"),
    (r"拖动 temperature；", "拖动温度；"),
    # -- frame players: captions ------------------------------------------------------------
    (r"^(\d+) notes; query row (\d+) is a probability vector: min entry " + _NUM + ", sum " + _NUM,
     "{1} 个音符；查询行 {2} 是概率向量：最小元素 {3}，和为 {4}"),
    (r"\), seed (\d+): each section is the motif and one composer's (\d+) notes — Markov, then "
     r"Transformer, then LSTM", "），种子 {1}：每段是动机加上一位作曲者的 {2} 个音符——依次为马尔可夫链、"
     "Transformer、LSTM"),
    (r"^(rising triad|falling line|dotted rhythm|chorale opening) \(", "{1}（"),
    (r", seed (\d+): ", "，种子 {1}："),
    (r"max \|P\^n - Monte Carlo\| = " + _NUM + r" \(standard error about " + _NUM + r"\)",
     "max |P^n − 蒙特卡罗| = {1}（标准误约 {2}）"),
    (r"✓ stochastic; max \|P\^n - pi\| over all entries = " + _NUM,
     "✓ 随机矩阵；所有元素上的 max |P^n − pi| = {1}"),
    (r"; mean sqrt\(ab\) x0 = " + _NUM + r", std sqrt\(1 - ab\) = " + _NUM + "; sample mean "
     + _NUM + ", std " + _NUM, "；均值 sqrt(ab) x0 = {1}，标准差 sqrt(1 - ab) = {2}；样本均值 {3}，"
     "标准差 {4}"),
    (r"✓ every row sums to 1: ", "✓ 每行之和均为 1："),
    (r"x_t keeps " + _NUM + r"% of the spectrogram's amplitude; noise std " + _NUM + r"\.",
     "x_t 保留频谱图幅度的 {1}%；噪声标准差 {2}。"),
    (r"^(t|n|temperature) = " + _NUM + ": ", "{1} = {2}："),
    (r"^(ᾱ_t = \S+): ", "{1}："),
    # -- live widgets: switches, titles --------------------------------------------------------
    (r"^Try it live: compute in your browser$", "实时试一试：在浏览器中计算"),
    (r"^Try it live: generate in your browser \(loads a 5 MB runtime and the " + _NUM
     + r" MB U-Net once\)$", "实时试一试：在浏览器中生成（只加载一次 5 MB 的运行时和 {1} MB 的 U-Net）"),
    (r"^Hide the live version$", "收起实时版本"),
    (r"^Transition-matrix editor, live in this page$", "转移矩阵编辑器：在本页实时计算"),
    (r"^Noise-schedule explorer, live in this page$", "噪声调度探索器：在本页实时计算"),
    (r"^Generate: DDIM with the trained U-Net, live in this page$",
     "生成：训练好的 U-Net 在本页实时做 DDIM 采样"),
    (r"^Attention explorer, live: the trained Transformer running in this page$",
     "注意力探索器（实时）：训练好的 Transformer 在本页运行"),
    (r"live: type a melody and run the trained Transformer in this page \(loads a 5 MB runtime "
     r"once\)", "实时：输入一段旋律，在本页运行训练好的 Transformer（只加载一次 5 MB 的运行时）"),
    # -- live widgets: the attention explorer --------------------------------------------------
    (r"note names such as C4 D4 E4 G4 \(quarter notes; a name without octave takes the octave "
     r"nearest the previous note\)\. Maps: query \(rows, start token first\) against key "
     r"\(columns\), brighter = more weight, scaled per map\.",
     "音名如 C4 D4 E4 G4（四分音符；不写八度的音名取最接近前一个音的八度）。注意力图：查询（行，"
     "起始词元在先）对键（列），越亮权重越大，每张图各自缩放。"),
    (r"^▶ play the melody and its continuation$", "▶ 播放旋律及其续写"),
    (r"^loading the runtime and the model…$", "正在加载运行时和模型…"),
    (r"^loading the runtime and the U-Net…$", "正在加载运行时和 U-Net…"),
    (r"^model ready in " + _NUM + " s$", "模型已就绪，用时 {1} 秒"),
    (r"^layer (\d+), head (\d+)$", "第 {1} 层，第 {2} 个头"),
    (r"^attention map of layer (\d+), head (\d+): (\d+) positions \(start token and (\d+) notes\); "
     r"the last note attends most to (\S+) at position (\d+) \((\d+)%\)$",
     "第 {1} 层第 {2} 个头的注意力图：{3} 个位置（起始词元和 {4} 个音符）；最后一个音符最关注位置 {6} 的"
     " {5}（{7}%）"),
    (r"^Next note: (.*) \(percent of probability, pitch classes\)$",
     "下一个音符：{1}（概率百分比，按音级）"),
    (r"^the Transformer's next-note distribution after the melody: most likely (.*)$",
     "Transformer 在这段旋律之后的下一音符分布：最可能的是 {1}"),
    (r"^next-note distribution$", "下一音符分布"),
    (r"^A continuation sampled by the model \(seed (\d+)\): ", "模型采样的续写（种子 {1}）："),
    (r"^the live model could not start \((.*)\); the precomputed frames above still work$",
     "实时模型无法启动（{1}）；上面预先计算的帧仍可使用"),
    (r"the model failed: ", "模型出错："),
    (r"^sound: ", "声音："),
    (r"^'(.*)' is not a note name \(expected e\.g\. C, F#, Bb or C4\)$",
     "'{1}' 不是音名（应为 C、F#、Bb 或 C4 这样的写法）"),
    (r"^'(.*)' is outside the MIDI range 0\.\.127$", "'{1}' 超出 MIDI 范围 0..127"),
    (r"^type at least two notes, e\.g\. C4 D4 E4 G4$", "请至少输入两个音符，例如 C4 D4 E4 G4"),
    (r"^(\d+) notes: at most (\d+) please$", "{1} 个音符：最多 {2} 个"),
    # -- live widgets: the generator -------------------------------------------------------------
    (r"^DDIM steps$", "DDIM 步数"),
    (r"^▶ generate and play$", "▶ 生成并播放"),
    (r"^sampling progress$", "采样进度"),
    (r"^the generated spectrogram$", "生成的频谱图"),
    (r"^sampled in " + _NUM + " s; turning it into sound…$", "采样用时 {1} 秒；正在转换为声音…"),
    (r"^(\d+) DDIM steps \(η = " + _NUM + r"\) in " + _NUM + r" s, sound \((\d+) Griffin-Lim "
     r"iterations\) in " + _NUM + " s", "{1} 步 DDIM（η = {2}）用时 {3} 秒，声音（{4} 次 Griffin-Lim "
     "迭代）用时 {5} 秒"),
    (r" \(model loaded in " + _NUM + r" s\)\. Press again with another seed for a new one\.$",
     "（模型加载用时 {1} 秒）。换一个种子再按一次，得到新的样本。"),
    (r"\. Press again with another seed for a new one\.$", "。换一个种子再按一次，得到新的样本。"),
    (r"^a new (\d+) mel bands × " + _NUM + r" s spectrogram drawn by the trained U-Net in this page "
     r"\(low bands at the bottom\)$", "训练好的 U-Net 在本页画出的新频谱图：{1} 个梅尔频带 × {2} 秒"
     "（低频带在下）"),
    # -- live widgets: the noise-schedule explorer ----------------------------------------------
    (r"^(\S+) = " + _NUM + r" is outside \(0, 1\): a step must keep some signal and add noise\.$",
     "{1} = {2} 不在 (0, 1) 内：每一步都必须保留一些信号并加入噪声。"),
    (r"^β₁ = " + _NUM + " exceeds β_T = " + _NUM + r": the noise schedule must increase "
     r"\(Definition 21\.8\)\.$", "β₁ = {1} 大于 β_T = {2}：噪声调度必须递增（定义 21.8）。"),
    (r"^T = (-?\d+): need at least one step\.$", "T = {1}：至少需要一步。"),
    (r"^t = (-?\d+) is outside 0\.\.T = 0\.\.(-?\d+): lower t or raise T\.$",
     "t = {1} 不在 0..T = 0..{2} 内：请减小 t 或增大 T。"),
    (r"^T = (.*) is not a whole number\.$", "T = {1} 不是整数。"),
    (r"^▶ play x_t$", "▶ 播放 x_t"),
    (r"^signal and noise power against t$", "信号与噪声功率随 t 的变化"),
    (r"^signal and noise power$", "信号与噪声功率"),
    (r"^the noised spectrogram x_t$", "加噪后的频谱图 x_t"),
    (r"^right: x_t, (\d+) mel bands \(low at the bottom\) × " + _NUM + r" s, colour from −1 "
     r"\(dark\) to 1 \(light\)$", "右：x_t，{1} 个梅尔频带（低频在下）× {2} 秒，颜色从 −1（暗）到 1（亮）"),
    # -- live widgets: the transition-matrix editor ---------------------------------------------
    (r"^normalise rows$", "行归一化"),
    (r"^▶ play melody$", "▶ 播放旋律"),
    (r"^transition matrix P: rows are the current note, columns the next$",
     "转移矩阵 P：行是当前音符，列是下一个音符"),
    (r"^piano roll of the sampled melody$", "采样旋律的钢琴卷帘"),
    (r"^piano roll: ", "钢琴卷帘："),
    (r"^stationary distribution π$", "平稳分布 π"),
    (r"^stationary distribution: ", "平稳分布："),
    (r"^stationary distribution$", "平稳分布"),
    (r"^stochastic; entropy rate " + _NUM + " bits/note$", "随机矩阵；熵率 {1} 比特/音符"),
    (r"^(\d+) notes sampled \(eighth notes\)$", "采样了 {1} 个音符（八分音符）"),
    (r"^entry \((\S+) -> (\S+)\) = '(.*)' is not a number$", "元素 ({1} -> {2}) = '{3}' 不是数"),
    (r"^negative weight W\[(\d+), (\d+)\] = (\S+)$", "负权重 W[{1}, {2}] = {3}"),
    (r"^row (\d+) is all zeros; it cannot be normalised$", "第 {1} 行全为零，无法归一化"),
    (r"^the chain is reducible with (\d+) closed classes (.*): each has its own stationary "
     r"distribution, so pi is not unique$", "这条链可约，有 {1} 个闭类 {2}：每个闭类有自己的平稳分布，"
     "所以 pi 不唯一"),
    (r"^the stationary system is singular$", "平稳方程组奇异"),
    # -- shared words: messages, controls, parameter names and preset values ---------------------
    (r"(\S+) must be a whole number in (-?\d+)\.\.(-?\d+), got '(.*)'$",
     "{1} 必须是 {2}..{3} 之间的整数，输入的是 '{4}'"),
    (r"(\S+) must be a whole number ≥ 0, got '(.*)'$", "{1} 必须是 ≥ 0 的整数，输入的是 '{2}'"),
    (r"could not load (\S+)", "无法加载 {1}"),
    (r"^this page is not part of the HTML book$", "这个页面不属于 HTML 版的书"),
    (r"^noise seed\b", "噪声种子"),
    (r"^(?:seed)\b", "种子"),
    (r"^preset\b", "预设"),
    (r"^notes$", "音符数"),
    (r"^start$", "起始音"),
    (r"^tempo\b", "速度"),
    (r"^melody$", "旋律"),
    (r"^schedule\b", "调度"),
    (r"^temperature\b", "温度"),
    (r"^head$", "注意力头"),
    (r"^layer$", "层"),
    (r"^chain$", "链"),
    (r"^motif$", "动机"),
    (r"\bBach-fitted\b", "巴赫拟合"),
    (r"\bEssen-fitted\b", "埃森拟合"),
    (r"\bIlliac-style\b", "Illiac 风格"),
    (r"\btoy C-E-G\b", "玩具 C-E-G"),
    (r"^uniform\b", "均匀"),
    (r"^stepwise\b", "级进"),
    (r"^linear$", "线性"),
    (r"^cosine$", "余弦"),
    (r"^rising triad", "上行三和弦"),
    (r"^falling line", "下行线条"),
    (r"^dotted rhythm", "附点节奏"),
    (r"^chorale opening", "众赞歌开头"),
]

#: the library's printed tables (tables.markdown_table): header and row-label cells, translated
#: whole by the Chinese build (tools/m2d_sphinx.py; a cell that is not here stays as printed)
TABLE_TERMS: dict[str, str] = {
    "first-order chain of notes": "一阶音符链",
    "matrix entries": "矩阵元素数",
    "pitch bits": "音高比特数",
    "duration bits": "时值比特数",
    "bits per note": "每音符比特数",
    "factored: pitch chain x duration chain": "分解链：音高链 × 时值链",
    "joint: one chain on (pitch, note value)": "联合链：(音高, 时值) 上的单条链",
    "melodies": "旋律",
    "median range (semitones)": "音域中位数（半音）",
    "lowest-highest (MIDI)": "最低-最高（MIDI）",
    "leaps > tritone": "跳进 > 三全音",
    "steps": "级进",
    "repeats": "同音重复",
    "note values used": "所用时值种数",
    "TV intervals to held-out chorale melodies": "音程：与留出众赞歌旋律的全变差",
    "TV note values to held-out chorale melodies": "时值：与留出众赞歌旋律的全变差",
    "held-out chorale melodies": "留出众赞歌旋律",
    "chain of notes": "音符链",
    "pitch-class chain, eighths": "音级链（全为八分音符）",
    "first-order chain": "一阶链",
    "free parameters": "自由参数",
    "stationary pi": "平稳分布 pi",
    "lambda_*": "lambda_*",
    "held-out bits per note": "留出集每音符比特数",
    "full: P_ij from the counts i -> j": "完整链：P_ij 由计数 i -> j 估计",
    "circulant: P_ij = f(j - i)": "循环链：P_ij = f(j - i)",
    "property": "性质",
    "Markov chain, order k = 3": "马尔可夫链，阶数 k = 3",
    "attention (Transformer)": "注意力（Transformer）",
    "LSTM (no attention)": "LSTM（无注意力）",
    "stochastic matrix": "随机矩阵",
    "its entries": "其元素",
    "context window": "上下文窗口",
    "parameters": "参数",
    "cost of a melody of n notes": "n 个音符的旋律的计算开销",
    "model": "模型",
    "validation bits/note": "验证集（比特/音符）",
    "test bits/note": "测试集（比特/音符）",
    "test: difference to Markov k=3 [95% CI]": "测试集：与马尔可夫 k=3 之差 [95% CI]",
    "Markov k=0": "马尔可夫 k=0",
    "Markov k=1": "马尔可夫 k=1",
    "Markov k=2": "马尔可夫 k=2",
    "Markov k=3": "马尔可夫 k=3",
    "Markov k=4": "马尔可夫 k=4",
    "Markov k=5": "马尔可夫 k=5",
    "Markov k=6": "马尔可夫 k=6",
    "Transformer": "Transformer",
    "LSTM": "LSTM",
    "Transformer, pitch only": "Transformer（仅音高）",
    "LSTM, pitch only": "LSTM（仅音高）",
    "model (test split)": "模型（测试集）",
    "pitch bits/note": "音高（比特/音符）",
    "duration bits/note": "时值（比特/音符）",
    "note bits/note": "音符（比特/音符）",
    "note: difference to Markov: pitch x duration chains [95% CI]":
        "音符：与“马尔可夫：音高链 × 时值链”之差 [95% CI]",
    "Markov: pitch-class chain, k=3": "马尔可夫：音级链，k=3",
    "Markov: duration chain, order 4": "马尔可夫：时值链，4 阶",
    "Markov: pitch x duration chains": "马尔可夫：音高链 × 时值链",
    "Markov: note chain, order 2": "马尔可夫：音符链，2 阶",
    "motif return rate (mean over 36)": "动机回归率（36 条的均值）",
    "median": "中位数",
    "melodies with rate > 0.2": "回归率 > 0.2 的旋律",
    "note values: TV distance to the real ones": "时值：与真实旋律的全变差距离",
    "real": "真实",
    "Markov": "马尔可夫",
    "soprano + bass, organ": "女高音 + 男低音，管风琴",
    "linear schedule": "线性调度",
    "cosine schedule": "余弦调度",
    "real (held out)": "真实（留出）",
    "DDPM samples": "DDPM 样本",
    "DDIM-50": "DDIM-50",
    "DDIM-10-eta1": "DDIM-10-eta1",
    "real phrase": "真实乐句",
    "generated phrase": "生成的乐句",
    "model of the code sequence": "码序列的模型",
    "test bits per token": "测试集每词元比特数",
    "uniform over the K codes": "K 个码上的均匀分布",
    "count-based Markov chain of order 0 over codes": "码上基于计数的 0 阶马尔可夫链",
    "count-based Markov chain of order 1 over codes": "码上基于计数的 1 阶马尔可夫链",
    "count-based Markov chain of order 2 over codes": "码上基于计数的 2 阶马尔可夫链",
    "code Transformer (Definition 21.12)": "码 Transformer（定义 21.12）",
    "upper bound on -log2 p(x) / d, first 128 test patches": "-log2 p(x) / d 的上界（前 128 个测试图块）",
    "bits per dimension": "每维比特数",
    "diffusion (ELBO, Theorem 21.5)": "扩散模型（ELBO，定理 21.5）",
    "token model (codes + decoder, 5.3)": "词元模型（码 + 解码器，5.3）",
    "no model: the raw 8-bit values": "无模型：原始 8 位值",
    "32 patches compared with the test set": "32 个图块（与测试集比较）",
    "Fréchet feature distance": "Fréchet 特征距离",
    "seconds per patch": "每图块耗时（秒）",
    "real: training patches": "真实：训练图块",
    "codec only: the same patches through the codebook": "仅编解码器：同样的图块经过码本",
    "token model samples": "词元模型样本",
    "diffusion: DDPM (1000 steps, eta 1)": "扩散模型：DDPM（1000 步，eta 1）",
    "representation": "表示",
    "tokens per second": "每秒词元数",
    "tokens in the median melody": "中位长度旋律的词元数",
    "raw bits per second": "原始每秒比特数",
    "model bits per second": "建模后每秒比特数",
    "what it keeps": "保留了什么",
    "pitch classes (Parts I–II)": "音级（第一、二部分）",
    "audio tokens, K = 256 (5.3)": "音频词元，K = 256（5.3）",
    "8-bit log-mel values (Part III)": "8 位对数梅尔值（第三部分）",
    "order k": "阶数 k",
    "count chain: val / test bits": "计数链：验证 / 测试比特数",
    "neural k-gram: val / test bits": "神经 k 元语法：验证 / 测试比特数",
    "count chain: free parameters / entries (contexts seen)": "计数链：自由参数 / 元素（已见上下文数）",
    "neural parameters": "神经模型参数",
    "4-minute piece as": "4 分钟乐曲表示为",
    "sequence length n": "序列长度 n",
    "one attention, Part II’s measured bytes/entry": "单个注意力矩阵，按第二部分实测的每元素字节数",
    "one head, one layer, float32": "单头、单层，float32",
    "large model: 24 layers x 16 heads, 2 bytes": "大模型：24 层 × 16 头，2 字节",
    "notes (Parts I–II), this tempo": "音符（第一、二部分），按此速度",
    "this chapter’s tokens: 86.1 Hz, 1 codebook": "本章的词元：86.1 Hz，1 个码本",
    "codec 50 Hz x 4 codebooks, parallel": "编解码器 50 Hz × 4 个码本，并行",
    "codec 50 Hz x 4 codebooks, flattened": "编解码器 50 Hz × 4 个码本，展平",
    "sampler": "采样器",
    "network calls per patch": "每图块网络调用次数",
    "Fréchet distance": "Fréchet 距离",
    "token model (autoregressive)": "词元模型（自回归）",
    "diffusion, DDPM": "扩散模型，DDPM",
    "diffusion, DDIM-100": "扩散模型，DDIM-100",
    "diffusion, DDIM-50": "扩散模型，DDIM-50",
    "diffusion, DDIM-20": "扩散模型，DDIM-20",
    "diffusion, DDIM-10": "扩散模型，DDIM-10",
    "diffusion, DDIM-100-eta1": "扩散模型，DDIM-100-eta1",
    "diffusion, DDIM-50-eta1": "扩散模型，DDIM-50-eta1",
    "diffusion, DDIM-20-eta1": "扩散模型，DDIM-20-eta1",
    "diffusion, DDIM-10-eta1": "扩散模型，DDIM-10-eta1",
    "second half from": "后一半来自",
    "mean jump at the seam (frame 32), model units": "第 32 帧接缝处的平均跳变（模型单位）",
    "real patches": "真实图块",
    "diffusion inpainting": "扩散补全",
    "token model continuation": "词元模型续写",
    "pasted: second half of an unconditional DDPM sample": "拼接：无条件 DDPM 样本的后一半",
}


def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    return lang


def get_lang() -> str:
    """The language of widget text in this kernel: :func:`set_lang`'s, else ``$M2D_LANG``, else
    ``"en"``.

    Raises:
        ValueError: ``$M2D_LANG`` names a language the book does not have
    """
    if _lang is not None:
        return _lang
    return _check_lang(os.environ.get("M2D_LANG", "en") or "en")


def set_lang(lang: str | None) -> None:
    """Choose the language of widget text in this kernel (``None``: back to ``$M2D_LANG``).

    Raises:
        ValueError: a language other than ``"en"`` or ``"zh"``
    """
    global _lang
    _lang = None if lang is None else _check_lang(lang)


@lru_cache(maxsize=1)
def _compiled() -> list[tuple[re.Pattern, str]]:
    return [(re.compile(p), r) for p, r in RULES]


def _fill(template: str, m: re.Match) -> str:
    return re.sub(r"\{(\d)\}", lambda g: m.group(int(g.group(1))) or "", template)


def translate(text: str, lang: str = "zh") -> str:
    """``text`` in ``lang``: every rule of :data:`RULES` applied in order to the text after its
    status mark (``"⚠ "`` or ``"✓ "``, kept); ``"en"``: unchanged.

    Args:
        text (str): a widget's English text
        lang (str): ``"en"`` or ``"zh"``
    Returns:
        text (str)
    Raises:
        ValueError: an unknown language
    """
    if _check_lang(lang) == "en" or not text:
        return text
    mark = re.match(_MARK, text).group(0)  # a status mark is not part of the sentence
    text = text[len(mark):]
    for rx, template in _compiled():
        text = rx.sub(lambda m, t=template: _fill(t, m), text)
    return mark + text


def tr(text: str) -> str:
    """``text`` in this kernel's language (:func:`get_lang`)."""
    return translate(text, get_lang())


def translate_cell(text: str) -> str:
    """A table cell in Chinese: its :data:`TABLE_TERMS` entry (the whole cell, spaces ignored), or
    the cell unchanged."""
    return TABLE_TERMS.get(text.strip(), text)


def localize_widget(widget: Any) -> Any:
    """Translate the labels (``description``) of an ipywidgets tree into this kernel's language
    (:func:`tr`), in place; values and options stay as they are (the code reads them).

    Returns:
        widget: the same widget
    """
    if get_lang() != "en":
        stack = [widget]
        while stack:
            w = stack.pop()
            desc = getattr(w, "description", None)
            if isinstance(desc, str) and desc:
                w.description = tr(desc)
            stack.extend(getattr(w, "children", ()) or ())
    return widget


#: the words in the book's figures (titles, axis labels, legends, fixed tick labels), translated
#: whole by :func:`m2d.plotting.figure_zh` for the Chinese edition (a text not here stays English)
FIGURE_TERMS: dict[str, str] = {
    "Illiac-style $P$": "Illiac 风格的 $P$",
    "next": "下一个",
    "current": "当前",
    "32 notes sampled from it (seed 1957)": "从中采样的 32 个音符（种子 1957）",
    "time (quarter notes)": "时间（四分音符）",
    "Theorem 21.2 (2): convergence from any start": "定理 21.2 (2)：从任意起点收敛",
    "start on C": "从 C 出发",
    "start on F#": "从 F# 出发",
    "start on A#": "从 A# 出发",
    "Theorem 21.2 (3): long-run frequency": "定理 21.2 (3)：长期频率",
    "probability": "概率",
    "$\\pi$ (solved)": "$\\pi$（求解值）",
    "frequency in 200,000 sampled notes": "200,000 个采样音符中的频率",
    "$\\delta_C P^n$ for the circle of fifths: no convergence": "五度循环的 $\\delta_C P^n$：不收敛",
    "reducible chain: $\\mu P^{50}$ depends on the start": "可约链：$\\mu P^{50}$ 取决于起点",
    "start on D": "从 D 出发",
    "Definition 21.4: distance to stationarity, worst start": "定义 21.4：到平稳分布的距离（最坏起点）",
    "t (notes)": "t（音符）",
    "Illiac-style": "Illiac 风格",
    "uniform": "均匀",
    "stepwise": "级进",
    "Bach-fitted": "巴赫拟合",
    "Essen-fitted": "埃森拟合",
    "toy C-E-G (3 states)": "玩具 C-E-G（3 个状态）",
    "bach: fitted $\\hat P$": "巴赫：拟合的 $\\hat P$",
    "essen: fitted $\\hat P$": "埃森：拟合的 $\\hat P$",
    "stationary $\\pi$: the fingerprint": "平稳分布 $\\pi$：风格指纹",
    "bach": "巴赫",
    "essen": "埃森",
    "sampled from the bach-fitted chain": "从巴赫拟合链采样",
    "sampled from the essen-fitted chain": "从埃森拟合链采样",
    "32 notes from the chain of notes (seed 1957)": "音符链生成的 32 个音符（种子 1957）",
    "intervals (log scale: the leaps)": "音程（对数刻度：看跳进）",
    "interval size |p(t+1) - p(t)| (semitones)": "音程大小 |p(t+1) - p(t)|（半音）",
    "share of moves": "所占比例",
    "held-out chorale melodies": "留出众赞歌旋律",
    "chain of notes": "音符链",
    "pitch-class chain, eighths": "音级链（全为八分音符）",
    "rhythm": "节奏",
    "note value": "时值",
    "share of notes": "音符占比",
    "dotted 8th": "附点八分",
    "quarter": "四分",
    "dotted quarter": "附点四分",
    "half": "二分",
    "dotted half": "附点二分",
    "whole": "全音符",
    "Bach: interval distribution $f$ (row 0 of $P$)": "巴赫：音程分布 $f$（$P$ 的第 0 行）",
    "interval d, semitones (mod 12, shown from -5 to +6)": "音程 d（半音，模 12，显示 -5 到 +6）",
    "eigenvalues in the unit disc": "单位圆盘中的特征值",
    "real part": "实部",
    "imaginary part": "虚部",
    "$\\lambda_k$: DFT of $f$": "$\\lambda_k$：$f$ 的 DFT",
    "eigvals of circulant($f$)": "循环矩阵($f$) 的特征值",
    "eigvals of the full Bach chain": "完整巴赫链的特征值",
    "the circulant Bach chain forgets its first note": "循环巴赫链会忘记第一个音",
    "Theorem 21.7, part 3": "定理 21.7 (3)",
    "$d(t)$ from $P^t$": "由 $P^t$ 算出的 $d(t)$",
    "sampled from the circulant (interval-only) Bach chain": "从循环（仅音程）巴赫链采样",
    "likelihood improves, then collapses": "似然先改善，后崩溃",
    "order k": "阶数 k",
    "held-out bits per note": "留出集每音符比特数",
    "uniform: log2 12": "均匀：log2 12",
    "the cause: sparsity": "原因：稀疏性",
    "fraction of held-out contexts never seen": "从未见过的留出上下文比例",
    "longest verbatim run (notes)": "最长原样照抄片段（音符）",
    "samples of the order-k chain": "k 阶链的样本",
    "real held-out melodies": "真实留出旋律",
    "key": "键",
    "query": "查询",
    "A (rows sum to 1)": "A（各行和为 1）",
    "output A V": "输出 A V",
    "output dim 1": "输出第 1 维",
    "output dim 2": "输出第 2 维",
    "variance of the scores": "分数的方差",
    "simulated Var$(q\\cdot k)$": "模拟的 Var$(q\\cdot k)$",
    "prediction $d_k$": "预测值 $d_k$",
    "simulated Var$(q\\cdot k/\\sqrt{d_k})$": "模拟的 Var$(q\\cdot k/\\sqrt{d_k})$",
    "prediction 1": "预测值 1",
    "saturation: 16 keys per row": "饱和：每行 16 个键",
    "entropy of a softmax row (bits)": "softmax 行的熵（比特）",
    "uniform: 4 bits": "均匀：4 比特",
    "without scaling": "不缩放",
    "with $1/\\sqrt{d_k}$": "用 $1/\\sqrt{d_k}$ 缩放",
    "head 1 (causal)": "注意力头 1（因果）",
    "head 2 (causal)": "注意力头 2（因果）",
    "head 3 (causal)": "注意力头 3（因果）",
    "head 4 (causal)": "注意力头 4（因果）",
    "training curves": "训练曲线",
    "epoch": "轮次",
    "bits per note (pitch + duration)": "每音符比特数（音高 + 时值）",
    "Transformer train (dropout)": "Transformer 训练集（带 dropout）",
    "Transformer validation": "Transformer 验证集",
    "LSTM train (dropout)": "LSTM 训练集（带 dropout）",
    "LSTM validation": "LSTM 验证集",
    "Markov pitch x duration chains, validation": "马尔可夫音高链 × 时值链，验证集",
    "Markov chains, validation split": "马尔可夫链，验证集",
    "Markov order": "马尔可夫阶数",
    "validation bits per note": "验证集每音符比特数",
    "chain on pitch classes (best: 3)": "音级链（最佳：3）",
    "chain on durations (best: 4)": "时值链（最佳：4）",
    "chain on notes (pitch, duration) (best: 2)": "(音高, 时值) 音符链（最佳：2）",
    "Markov: the one row $P_{G\\cdot}$ (fixed)": "马尔可夫：唯一的一行 $P_{G\\cdot}$（固定）",
    "Transformer: $p(x_{t+1} \\mid x_{\\leq t})$ at each G":
        "Transformer：每个 G 处的 $p(x_{t+1} \\mid x_{\\leq t})$",
    "next note": "下一个音符",
    "position t of the G": "G 所在位置 t",
    "attention rows at those G's (last layer, mean of heads)": "这些 G 处的注意力行（最后一层，各头平均）",
    "attended position (note)": "被关注的位置（音符）",
    "query: the G at": "查询：G 所在位置",
    "held-out cross-entropy, same targets": "留出集交叉熵（相同目标）",
    "test bits per note (lower is better)": "测试集每音符比特数（越低越好）",
    "by position in the melody": "按旋律中的位置",
    "test bits per note": "测试集每音符比特数",
    "Markov k=3": "马尔可夫 k=3",
    "Transformer, pitch only": "Transformer（仅音高）",
    "LSTM, pitch only": "LSTM（仅音高）",
    "Transformer\npitch only": "Transformer\n仅音高",
    "LSTM\npitch only": "LSTM\n仅音高",
    "t = 6–11\n(216 notes)": "t = 6–11\n（216 个音符）",
    "t = 12–23\n(432 notes)": "t = 12–23\n（432 个音符）",
    "t = 24–47\n(683 notes)": "t = 24–47\n（683 个音符）",
    "t = 48–end\n(211 notes)": "t = 48–结尾\n（211 个音符）",
    "pitch, duration and the whole note, same test targets": "音高、时值与整个音符（相同测试目标）",
    "Markov: pitch x duration chains": "马尔可夫：音高链 × 时值链",
    "Markov: note chain, order 2": "马尔可夫：音符链，2 阶",
    "pitch": "音高",
    "duration": "时值",
    "whole note (joint)": "整个音符（联合）",
    "real": "真实",
    "Markov": "马尔可夫",
    "repetition structure, 36 test melodies": "重复结构（36 条测试旋律）",
    "fraction of 4-note motifs that return": "再次出现的 4 音符动机比例",
    "the rhythm of the continuations": "续写的节奏",
    "note value (quarter notes)": "时值（四分音符）",
    "share of notes (t ≥ 6)": "音符占比（t ≥ 6）",
    "mean attention by offset (rows: layer L, head H)": "按偏移的平均注意力（行：第 L 层第 H 个头）",
    "attended: start token, latest note (0), 1, 2, ... notes before":
        "被关注者：起始词元，最新音符 (0)，之前第 1、2、… 个音符",
    "head": "注意力头",
    "what the heads look for (dotted: no preference)": "各头在找什么（虚线：无偏好）",
    "attention / uniform attention": "注意力 / 均匀注意力",
    "same pitch class as the latest note": "与最新音符同音级",
    "what followed that note before": "此前跟在该音符后的音",
    "the note one bar (4 beats) back": "一小节（4 拍）之前的音符",
    "L2H2: the note before the latest": "L2H2：最新音符的前一个音符",
    "key (attended note)": "键（被关注的音符）",
    "query (latest note)": "查询（最新音符）",
    "L2H2: what followed this note before": "L2H2：此前跟在这个音符后的音",
    "L1H2: one bar back": "L1H2：一小节之前",
    "Limit 2: time of one attention": "局限 2：单个注意力的耗时",
    "sequence length n": "序列长度 n",
    "time (ms)": "时间（毫秒）",
    "measured (fitted slope 2.24 for n ≥ 256)": "实测（n ≥ 256 时拟合斜率 2.24）",
    "slope 2 (quadratic)": "斜率 2（二次）",
    "Limit 2: memory of one attention": "局限 2：单个注意力的内存",
    "peak memory (MiB)": "峰值内存（MiB）",
    "measured (fitted slope 1.99 for n ≥ 256)": "实测（n ≥ 256 时拟合斜率 1.99）",
    "bwv153.1: log-mel spectrogram (dB)": "bwv153.1：对数梅尔频谱图（dB）",
    "Time": "时间",
    "bwv17.7: log-mel spectrogram (dB)": "bwv17.7：对数梅尔频谱图（dB）",
    "bwv248.53-5: log-mel spectrogram (dB)": "bwv248.53-5：对数梅尔频谱图（dB）",
    "16 training patches (mel band up, time to the right; values in [-1, 1])":
        "16 个训练图块（梅尔频带向上，时间向右；取值 [-1, 1]）",
    "linear": "线性",
    "cosine": "余弦",
    "$\\bar\\alpha_t$ (Definition 21.9)": "$\\bar\\alpha_t$（定义 21.9）",
    "SNR$(t) = \\bar\\alpha_t/(1-\\bar\\alpha_t)$ in dB":
        "SNR$(t) = \\bar\\alpha_t/(1-\\bar\\alpha_t)$（dB）",
    "iterated chain": "迭代链",
    "Theorem 21.4": "定理 21.4",
    "linear, t = 0 (clean)": "线性，t = 0（干净）",
    "linear, t = 50\nSNR 15 dB": "线性，t = 50\n信噪比 15 dB",
    "linear, t = 150\nSNR 6 dB": "线性，t = 150\n信噪比 6 dB",
    "linear, t = 300\nSNR -2 dB": "线性，t = 300\n信噪比 -2 dB",
    "linear, t = 500\nSNR -11 dB": "线性，t = 500\n信噪比 -11 dB",
    "linear, t = 1000\nSNR -44 dB": "线性，t = 1000\n信噪比 -44 dB",
    "cosine, t = 0 (clean)": "余弦，t = 0（干净）",
    "cosine, t = 50\nSNR 21 dB": "余弦，t = 50\n信噪比 21 dB",
    "cosine, t = 150\nSNR 12 dB": "余弦，t = 150\n信噪比 12 dB",
    "cosine, t = 300\nSNR 6 dB": "余弦，t = 300\n信噪比 6 dB",
    "cosine, t = 500\nSNR -0 dB": "余弦，t = 500\n信噪比 -0 dB",
    "cosine, t = 1000\nSNR -86 dB": "余弦，t = 1000\n信噪比 -86 dB",
    "Bayes on a grid: $q(x_t|x_{t-1})\\,q(x_{t-1}|x_0)$, normalised":
        "网格上的贝叶斯：$q(x_t|x_{t-1})\\,q(x_{t-1}|x_0)$，归一化",
    "the reweighting of the ELBO": "ELBO 的重新加权",
    "ELBO weight $\\lambda_t$ ($\\sigma_t^2=\\beta_t$)": "ELBO 权重 $\\lambda_t$（$\\sigma_t^2=\\beta_t$）",
    "$L_{\\mathrm{simple}}$ weight 1": "$L_{\\mathrm{simple}}$ 权重 1",
    "Check 4: $L_{t-1}$ per step (nats), optimal predictor": "检验 4：每步的 $L_{t-1}$（奈特），最优预测器",
    "Definition 21.11: the score field of the noised mixture follows t (arrows: direction, sqrt of length)":
        "定义 21.11：加噪混合分布的得分场随 t 变化（箭头：方向，长度取平方根）",
    "t = 10: exact score": "t = 10：精确得分",
    "t = 100: exact score": "t = 100：精确得分",
    "t = 300: exact score": "t = 300：精确得分",
    "t = 700: exact score": "t = 700：精确得分",
    "t = 10: $-\\epsilon_\\theta/\\sqrt{1-\\bar\\alpha_t}$ (network)":
        "t = 10：$-\\epsilon_\\theta/\\sqrt{1-\\bar\\alpha_t}$（网络）",
    "t = 100: $-\\epsilon_\\theta/\\sqrt{1-\\bar\\alpha_t}$ (network)":
        "t = 100：$-\\epsilon_\\theta/\\sqrt{1-\\bar\\alpha_t}$（网络）",
    "t = 300: $-\\epsilon_\\theta/\\sqrt{1-\\bar\\alpha_t}$ (network)":
        "t = 300：$-\\epsilon_\\theta/\\sqrt{1-\\bar\\alpha_t}$（网络）",
    "t = 700: $-\\epsilon_\\theta/\\sqrt{1-\\bar\\alpha_t}$ (network)":
        "t = 700：$-\\epsilon_\\theta/\\sqrt{1-\\bar\\alpha_t}$（网络）",
    "training loss": "训练损失",
    "optimiser step": "优化步",
    "loss per dimension": "每维损失",
    "L_simple per batch": "每批的 L_simple",
    "moving average (25)": "滑动平均（25）",
    "predict $\\epsilon = 0$: $\\mathbb{E}\\|\\epsilon\\|^2/d = 1$":
        "预测 $\\epsilon = 0$：$\\mathbb{E}\\|\\epsilon\\|^2/d = 1$",
    "quality against training time (recorded in the manifest)": "质量与训练时间（记录于清单）",
    "training minutes (2-core CPU, one thread)": "训练时间（分钟；双核 CPU，单线程）",
    "Frechet distance (DDIM-50)": "Fréchet 距离（DDIM-50）",
    "negative ELBO (bits/dim)": "负 ELBO（比特/维）",
    "$L_{t-1}$ of the trained model": "训练后模型的 $L_{t-1}$",
    "bits / dim": "比特 / 维",
    "reverse trajectories (ancestral DDPM), four samples": "反向轨迹（祖先采样 DDPM），四个样本",
    "top: real held-out patches; bottom: samples of the model (1000 steps)":
        "上：真实留出图块；下：模型样本（1000 步）",
    "held-out\nreal": "留出的\n真实图块",
    "DDPM\nsamples": "DDPM\n样本",
    "Limit 3: the quality-speed trade-off of this model": "局限 3：本模型的质量–速度权衡",
    "wall time for 32 samples (s)": "32 个样本的耗时（秒）",
    "Frechet distance (lower is better)": "Fréchet 距离（越低越好）",
    "stochastic ($\\eta = 1$; DDPM at 1000 steps)": "随机（$\\eta = 1$；DDPM 为 1000 步）",
    "DDIM, $\\eta = 0$": "DDIM，$\\eta = 0$",
    "real patches (floor)": "真实图块（下限）",
    "the same starting noise x_T through each sampler": "同一起始噪声 x_T 经过各采样器",
    "real phrase #1": "真实乐句 #1",
    "generated phrase #1": "生成的乐句 #1",
    "real phrase #2": "真实乐句 #2",
    "generated phrase #2": "生成的乐句 #2",
    "real phrase #3": "真实乐句 #3",
    "generated phrase #3": "生成的乐句 #3",
    "real phrase #4": "真实乐句 #4",
    "generated phrase #4": "生成的乐句 #4",
    "pentatonic $P$": "五声音阶 $P$",
    "seed 1: C-E-A-C-A-E-E-A-…": "种子 1：C-E-A-C-A-E-E-A-…",
    "seed 2: C-D-D-A-C-G-A-C-…": "种子 2：C-D-D-A-C-G-A-C-…",
    "seed 3: C-C-D-A-G-C-E-E-…": "种子 3：C-C-D-A-G-C-E-E-…",
    "the landscape: who releases weights (horizontal), how the music is represented (vertical)":
        "全景图：谁公开权重（横轴），音乐如何表示（纵轴）",
    "MusicLM (2023, Google)": "MusicLM（2023，Google）",
    "SoundStream and w2v-BERT tokens; hierarchical autoregression":
        "SoundStream 与 w2v-BERT 词元；分层自回归",
    "Music Transformer (2019, Google Magenta)": "Music Transformer（2019，Google Magenta）",
    "MIDI events; autoregressive Transformer, relative attention":
        "MIDI 事件；自回归 Transformer，相对注意力",
    "MusicGen (2023, Meta)": "MusicGen（2023，Meta）",
    "EnCodec tokens, 4 codebooks; one autoregressive Transformer":
        "EnCodec 词元，4 个码本；单个自回归 Transformer",
    "this book: code Transformer": "本书：码 Transformer",
    "k-means codes of mel frames, Part II's Transformer": "梅尔帧的 k-means 码，第二部分的 Transformer",
    "Stable Audio (2024, Stability AI)": "Stable Audio（2024，Stability AI）",
    "latent diffusion on an audio autoencoder's latents": "音频自编码器潜空间上的潜扩散",
    "Riffusion (2022, Forsyth & Martiros)": "Riffusion（2022，Forsyth & Martiros）",
    "Stable Diffusion fine-tuned on spectrogram images": "在频谱图图像上微调的 Stable Diffusion",
    "Stable Audio Open (2024, Stability AI)": "Stable Audio Open（2024，Stability AI）",
    "latent diffusion (DiT) on an audio autoencoder's latents": "音频自编码器潜空间上的潜扩散（DiT）",
    "ACE-Step (2025, ACE Studio & StepFun)": "ACE-Step（2025，ACE Studio & StepFun）",
    "diffusion on a compressed autoencoder's latents (DCAE)": "压缩自编码器（DCAE）潜空间上的扩散",
    "this book: DDPM U-Net": "本书：DDPM U-Net",
    "8-bit log-mel patches, denoising diffusion": "8 位对数梅尔图块，去噪扩散",
    "closed (no released weights)": "闭源（未公开权重）",
    "open (weights released)": "开源（已公开权重）",
    "continuous\n+ diffusion": "连续表示\n+ 扩散",
    "discrete tokens\n+ autoregression": "离散词元\n+ 自回归",
    "reconstruction error against codebook size": "重建误差与码本大小",
    "codebook size K (log2 K bits per frame)": "码本大小 K（每帧 log2 K 比特）",
    "RMS error on test frames (dB)": "测试帧上的均方根误差（dB）",
    "original: 256 frames of 8-bit values": "原始：256 帧 8 位值",
    "K = 16: 256 tokens of 4 bits": "K = 16：256 个 4 比特词元",
    "K = 64: 256 tokens of 6 bits": "K = 64：256 个 6 比特词元",
    "K = 256: 256 tokens of 8 bits": "K = 256：256 个 8 比特词元",
    "real (test)": "真实（测试集）",
    "token model (autoregressive)": "词元模型（自回归）",
    "diffusion (Part III, DDPM)": "扩散模型（第三部分，DDPM）",
    "one continuous sample of the token model (sliding context)": "词元模型的一段连续样本（滑动上下文）",
    "same data, same positions: counts collapse, embeddings do not":
        "同样的数据、同样的位置：计数失效，嵌入不会",
    "count k-gram (test)": "计数 k 元语法（测试集）",
    "neural k-gram (test)": "神经 k 元语法（测试集）",
    "order 5: test positions by context": "5 阶：按上下文划分的测试位置",
    "count 5-gram": "计数 5 元语法",
    "neural 5-gram": "神经 5 元语法",
    "continuations of the same opening (grey)": "同一开头（灰色）的续写",
    "note": "音符",
    "MIDI pitch": "MIDI 音高",
    "seen": "已见过",
    "never seen": "从未见过",
    "before the edit (same random numbers)": "编辑前（相同随机数）",
    "after the edit (same random numbers)": "编辑后（相同随机数）",
    "diffusion inpainting": "扩散补全",
    "token continuation (left: the real half's codes)": "词元续写（左：真实一半的码）",
}


def translate_figure(text: str) -> str:
    """A figure's text in Chinese: its :data:`FIGURE_TERMS` entry, or the text unchanged."""
    return FIGURE_TERMS.get(text, text)


def rules_json() -> str:
    """:data:`RULES` for the page's ``live.tr``: JSON ``[[pattern, replacement], ...]`` with the
    replacement's ``{k}`` written as JavaScript's ``$k``."""
    return json.dumps([[p, re.sub(r"\{(\d)\}", r"$\1", r.replace("$", "$$"))] for p, r in RULES],
                      ensure_ascii=False)
