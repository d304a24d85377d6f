/** Turns a synchronous body into a promise (the executor turns its throws into rejections), like the Redis driver's async methods. */
export function settle<T>(body: () => T): Promise<T> {
  return new Promise<T>((resolve) => resolve(body()));
}
