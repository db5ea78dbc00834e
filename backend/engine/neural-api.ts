// The shapes of the Word2Vec and SOM modules (backend/engine/word2vec.ts and som.ts, written by a teammate).
// neural.ts loads them at run time so the engine builds and runs before they land; these declarations are the
// agreed signatures.

export interface Word2VecOptions {
  mode: 'skipgram' | 'cbow';
  dim: number;
  window: number;
  epochs: number;
  minCount: number;
  negative: number;
  learningRate: number;
  seed: number;
}
export interface Word2VecModel {
  dim: number;
  vocab: Map<string, number>;
  vectors: Float32Array;
  counts: Uint32Array;
}
export interface Word2VecModule {
  trainWord2Vec(
    sentences: readonly (readonly string[])[],
    options?: Partial<Word2VecOptions>,
    onProgress?: (done: number, total: number) => void,
  ): Word2VecModel;
  serializeWord2Vec(m: Word2VecModel): { json: object; vectors: Float32Array };
  deserializeWord2Vec(json: object, vectors: Float32Array): Word2VecModel;
}
export interface SomOptions {
  width: number;
  height: number;
  epochs: number;
  radiusStart: number;
  radiusEnd: number;
  seed: number;
  init: 'pca' | 'random';
}
export interface SelfOrganizingMapInstance {
  readonly width: number;
  readonly height: number;
  readonly dim: number;
  readonly weights: Float32Array;
  bmuDistance(vector: Float32Array, offset?: number): number;
  quantizationError(data: Float32Array, count: number): number;
}
export interface SomModule {
  SelfOrganizingMap: {
    train(
      data: Float32Array,
      count: number,
      dim: number,
      options?: Partial<SomOptions>,
      onProgress?: (epoch: number, epochs: number, quantizationError: number) => void,
    ): SelfOrganizingMapInstance;
    new (width: number, height: number, dim: number, weights: Float32Array): SelfOrganizingMapInstance;
  };
}
