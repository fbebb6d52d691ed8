import { Component, type ReactNode } from 'react';

interface Props {
  /** Shown above the error: what failed, in the user's language. */
  title: string;
  hint: string;
  reloadLabel: string;
  /** A change of this (the page shown) clears the error, so the rest of the app stays usable. */
  resetKey: string;
  children: ReactNode;
}

/**
 * A page that fails to render shows what went wrong and a way on (another page, or reload)
 * instead of blanking the window; the engine and its jobs are not affected.
 */
export class ErrorBoundary extends Component<Props, { error: Error | null; key: string }> {
  state = { error: null as Error | null, key: this.props.resetKey };

  static getDerivedStateFromError(error: Error): Partial<{ error: Error }> {
    return { error };
  }

  static getDerivedStateFromProps(props: Props, state: { error: Error | null; key: string }): Partial<{ error: Error | null; key: string }> | null {
    return props.resetKey !== state.key ? { error: null, key: props.resetKey } : null;
  }

  componentDidCatch(error: Error): void {
    console.error('Page failed to render:', error);
  }

  render(): ReactNode {
    if (!this.state.error) return this.props.children;
    return (
      <section className="page" role="alert" data-testid="page-error">
        <h1>{this.props.title}</h1>
        <p>{this.props.hint}</p>
        <pre className="notice error">{this.state.error.message}</pre>
        <button className="primary" onClick={() => location.reload()}>{this.props.reloadLabel}</button>
      </section>
    );
  }
}
