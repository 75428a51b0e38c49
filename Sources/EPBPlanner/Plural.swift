/// `count` and `noun` with the plural a reader expects: `plural(1, "step")` is "1 step",
/// `plural(3, "step")` is "3 steps", `plural(2, "GPU")` is "2 GPUs"; `pluralForm` for
/// irregular nouns. Used by every user-facing message that counts something.
public func plural(_ count: Int, _ noun: String, _ pluralForm: String? = nil) -> String {
  "\(count) " + (count == 1 ? noun : pluralForm ?? noun + "s")
}
