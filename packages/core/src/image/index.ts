export { decodePng } from './decode-png.js';
export type { EncodePngOptions } from './encode-png.js';
export { encodePng } from './encode-png.js';
export { imagesToTensor, imageToTensor } from './image-to-tensor.js';
export type { ImageGridOptions } from './make-image-grid.js';
export { makeImageGrid } from './make-image-grid.js';
export type { RawImage } from './raw-image.js';
export { tensorToImage, tensorToImages } from './tensor-to-image.js';
