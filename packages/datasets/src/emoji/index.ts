export type { EmojiCatalogOptions, EmojiEntry, UnicodeEmojiData } from './emoji-catalog.js';
export { EXCLUDED_EMOJI_GROUPS, emojiCatalog } from './emoji-catalog.js';
export type { ChannelImage } from './flatten-alpha.js';
export { flattenAlpha } from './flatten-alpha.js';
export type { EmojiDataset, EmojiExample, LoadEmojiOptions } from './load-emoji-dataset.js';
export { EMOJI_IMAGES_PACKAGE, loadEmojiDataset } from './load-emoji-dataset.js';
export type { SkinToneCode } from './skin-tones.js';
export { emojiCodepoints, SKIN_TONE_CODES, SKIN_TONES, withSkinTone } from './skin-tones.js';
