namespace Firewall.Core.Rules;

/// <summary>
/// The current rule set, swapped atomically on reload. Readers take <see cref="Current"/> once per packet (or batch)
/// and use that snapshot; conntrack state is elsewhere and survives the swap.
/// </summary>
public sealed class RuleSetHolder
{
    private RuleSet _current;

    public RuleSetHolder(RuleSet initial) { _current = initial; }

    public RuleSet Current => Volatile.Read(ref _current);

    /// <summary>Installs <paramref name="next"/> and returns the previous set.</summary>
    public RuleSet Swap(RuleSet next)
    {
        ArgumentNullException.ThrowIfNull(next);
        return Interlocked.Exchange(ref _current, next);
    }
}
