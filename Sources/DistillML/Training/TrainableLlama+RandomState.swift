extension TrainableLlama: TrainingRandomState {
    /// The dropout stream, saved in checkpoints so a resumed LoRA run draws the same masks.
    public var randomStream: UInt64 {
        get { dropoutStream }
        set { dropoutStream = newValue }
    }
}
