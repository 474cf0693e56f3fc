/** A labelled <select> whose options are [value, text] pairs, the current value selected. */
export function SelectField(props: { label: string; name: string; value: string; options: readonly (readonly [string, string])[] }) {
  return (
    <label>
      {props.label}
      <select name={props.name}>
        {props.options.map(([value, text]) => (
          <option value={value} selected={props.value === value}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}
