export type { FolderExample } from './load-image-folder.js';
export { CAPTIONS_FILE, loadImageFolder } from './load-image-folder.js';
