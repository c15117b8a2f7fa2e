export const START_OF_TEXT = '<|startoftext|>';
export const END_OF_TEXT = '<|endoftext|>';
/** Marks the last symbol of a word, so "a</w>" (a word) and "a" (a word's start) are different tokens. */
export const END_OF_WORD = '</w>';
