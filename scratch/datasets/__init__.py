"""The project's real data: text corpora and vocabularies, evaluation sets, MNIST-style images,
language-model streams. Pure NumPy; the files live in ``data/`` (``python scripts/fetch_data.py``)."""
from .evaluation import AnalogySection, Analogies, load_analogies, load_word_pairs
from .lm import (char_vocab, copy_mix_batches, head_tail_split, lm_corpus_split, load_text, load_text_bytes,
                 random_batches, sequential_batches, stdlib_source_bytes, train_val_split)
from .mnist import load_mnist
from .paths import data_dir, data_path
from .text import TokenChunk, Vocab, iter_lines, iter_token_chunks, load_corpus, subsample_keep_probs, tokenize

__all__ = [
    "AnalogySection", "Analogies", "load_analogies", "load_word_pairs",
    "char_vocab", "copy_mix_batches", "head_tail_split", "lm_corpus_split", "load_text", "load_text_bytes",
    "random_batches", "sequential_batches", "stdlib_source_bytes", "train_val_split",
    "load_mnist",
    "data_dir", "data_path",
    "TokenChunk", "Vocab", "iter_lines", "iter_token_chunks", "load_corpus", "subsample_keep_probs", "tokenize",
]
