// snappyjs ships no type declarations; these cover the two functions it exports (snappy block format).
declare module 'snappyjs' {
  export function uncompress<T extends ArrayBuffer | Uint8Array>(compressed: T, maxLength?: number): T;
  export function compress<T extends ArrayBuffer | Uint8Array>(uncompressed: T): T;
  const snappy: { uncompress: typeof uncompress; compress: typeof compress };
  export default snappy;
}
