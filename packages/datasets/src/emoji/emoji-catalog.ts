import { emojiCodepoints, SKIN_TONE_CODES, SKIN_TONES, withSkinTone } from './skin-tones.js';

/** One entry of `unicode-emoji-json`'s data-by-emoji.json. */
export interface UnicodeEmojiData {
  name: string;
  slug: string;
  group: string;
  skin_tone_support: boolean;
}

/** One emoji (or one skin-tone variant) with its captions. */
export interface EmojiEntry {
  emoji: string;
  /** Lower-case hex code points joined by '-', as emoji image files are named. */
  codepoints: string;
  /** The Unicode name, e.g. 'waving hand'. */
  name: string;
  /** The Unicode group, e.g. 'People & Body'. */
  group: string;
  /** The skin tone in words ('medium skin tone'), or null. */
  skinTone: string | null;
  /** emojilib's keywords, as words. */
  keywords: string[];
  /** The main caption: the name, with the skin tone in words. */
  caption: string;
  /** Other phrasings of the same caption, the main one first. */
  captions: string[];
}

export interface EmojiCatalogOptions {
  /** Add five skin-tone variants of each emoji that supports them. Default true. */
  skinTones?: boolean;
}

/** Groups left out: flags are mostly country codes that a picture alone cannot teach. */
export const EXCLUDED_EMOJI_GROUPS: readonly string[] = ['Flags'];

/**
 * Captions for every emoji (flags left out) from the Unicode names of `unicode-emoji-json` and the
 * keywords of `emojilib`, with each skin-tone variant described in words.
 */
export function emojiCatalog(
  data: Readonly<Record<string, UnicodeEmojiData>>,
  keywords: Readonly<Record<string, readonly string[]>>,
  options: EmojiCatalogOptions = {},
): EmojiEntry[] {
  const { skinTones = true } = options;
  const entries: EmojiEntry[] = [];
  for (const [emoji, info] of Object.entries(data)) {
    if (EXCLUDED_EMOJI_GROUPS.includes(info.group)) continue;
    const words = keywordWords(keywords[emoji] ?? [], info.name);
    entries.push(entry(emoji, info, words, null));
    if (!skinTones || !info.skin_tone_support) continue;
    for (const tone of SKIN_TONE_CODES)
      entries.push(entry(withSkinTone(emoji, tone), info, words, SKIN_TONES[tone]));
  }
  return entries;
}

function entry(
  emoji: string,
  info: UnicodeEmojiData,
  keywords: string[],
  skinTone: string | null,
): EmojiEntry {
  const name = info.name;
  const caption = skinTone === null ? name : `${name}, ${skinTone}`;
  const captions = [caption, `${caption} emoji`];
  if (keywords.length > 0) captions.push(`${caption}: ${keywords.slice(0, 6).join(', ')}`);
  return {
    emoji,
    codepoints: emojiCodepoints(emoji),
    name,
    group: info.group,
    skinTone,
    keywords,
    caption,
    captions,
  };
}

/** emojilib keywords as plain words: underscores to spaces, no symbols, none repeating the name. */
function keywordWords(list: readonly string[], name: string): string[] {
  const seen = new Set([name.toLowerCase()]);
  const words: string[] = [];
  for (const raw of list) {
    const word = raw.replace(/_/g, ' ').trim().toLowerCase();
    if (!/^[a-z][a-z' -]*$/.test(word) || seen.has(word)) continue;
    seen.add(word);
    words.push(word);
  }
  return words;
}
