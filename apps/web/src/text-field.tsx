/** A one-line text input bound to a string (what the page's forms are made of). */

/** Props of {@link TextField}. */
export interface TextFieldProps {
  readonly value: string;
  /** Called with the new text on every keystroke. */
  readonly onValue: (value: string) => void;
  readonly placeholder?: string;
  readonly class?: string;
  /** `data-testid`, for the smoke test. */
  readonly testId?: string;
}

/**
 * A controlled `<input>`.
 * @param props - value, change handler, placeholder, class, test id
 * @returns the input element
 */
export function TextField(props: TextFieldProps) {
  return (
    <input
      class={props.class}
      data-testid={props.testId}
      placeholder={props.placeholder}
      value={props.value}
      onInput={(e) => props.onValue((e.target as HTMLInputElement).value)}
    />
  );
}

/** Props of {@link TextForm}. */
export interface TextFormProps extends TextFieldProps {
  /** The submit button's label. */
  readonly button: string;
  /** `data-testid` of the button. */
  readonly buttonTestId?: string;
  /** Called with the trimmed text when it is not empty. */
  readonly onSubmit: (text: string) => void;
  readonly formClass?: string;
}

/**
 * One text field and its button: submits the trimmed text, ignores an empty one.
 * @param props - the field's props, the button, the submit handler
 * @returns the form element
 */
export function TextForm(props: TextFormProps) {
  return (
    <form
      class={props.formClass}
      onSubmit={(e) => {
        e.preventDefault();
        const text = props.value.trim();
        if (text !== "") props.onSubmit(text);
      }}
    >
      <TextField {...props} />
      <button type="submit" data-testid={props.buttonTestId}>
        {props.button}
      </button>
    </form>
  );
}
