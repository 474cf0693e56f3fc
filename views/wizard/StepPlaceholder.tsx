import type { StepId } from "../../src/wizard/steps.ts";

/** What each step will do, shown until the step's own screen lands. */
const WHAT_IT_DOES: Record<StepId, string> = {
  model: "Pick the base model: a Hugging Face id or a local model folder. You will see its architecture, size, license and the GPU memory it needs.",
  task: "Choose what the model should learn: follow instructions, or answer questions about your documents.",
  data: "Upload your documents (PDF, DOCX, TXT, MD, up to 50 MB each) or a ready dataset (JSONL, CSV, JSON).",
  preview: "A local model served by Ollama writes 10 examples from your documents so you can judge them, then the full dataset.",
  review: "Browse, search, filter and clean the dataset before training.",
  hardware: "Check the GPU, its memory, CUDA and PyTorch, and get a LoRA or QLoRA recommendation.",
  train: "Train a LoRA or QLoRA adapter and watch the loss live.",
  export: "Download the adapter, a report, metrics and an Ollama Modelfile in one zip.",
};

export function StepPlaceholder(props: { step: StepId }) {
  return (
    <div class="placeholder">
      <p>{WHAT_IT_DOES[props.step]}</p>
      <p class="muted">This step’s screen is being built; navigation and progress already work.</p>
    </div>
  );
}
