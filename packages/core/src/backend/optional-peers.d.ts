// Optional peers that are not installed in this repository; their types are not needed here.
declare module '@tensorflow/tfjs-node';
declare module '@tensorflow/tfjs-node-gpu';
