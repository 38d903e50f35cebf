/** A tool call the broker declines: its message is shown to the model, so it says what to do instead. */
export class Refusal extends Error {
  override name = "Refusal";
}
