/**
 * Server side of an island: renders the component to HTML inside a marker element that
 * carries its name and props (as JSON in an attribute, which Preact escapes), so the
 * client entry can hydrate exactly these components with exactly these props.
 */

import type { ComponentType } from "preact";

export function Island<P extends object>(props: { name: string; component: ComponentType<P>; props: P }) {
  const Component = props.component;
  return (
    <div data-island={props.name} data-props={JSON.stringify(props.props)} class="island">
      <Component {...props.props} />
    </div>
  );
}
