/** A refusal the peer answers with `status` and Fly's error body `{ "error": message }`. */
export class PeerError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
