using System.Globalization;
using System.Text;

namespace Firewall.Daemon.Metrics;

/// <summary>One sample of a metric family: its labels (name, value pairs) and value.</summary>
public readonly record struct MetricSample(double Value, params (string Name, string Value)[] Labels);

/// <summary>
/// Metric families rendered in the Prometheus text format (version 0.0.4). Anything can add a family — the daemon's
/// engine figures, a data path's own counters (capture drops, queue drops): <see cref="Register"/> a name, a type
/// (counter or gauge), help text and a callback that reads current values at scrape time.
/// </summary>
public sealed class MetricsRegistry
{
    private readonly Lock _gate = new();
    private readonly List<(string Name, string Type, string Help, Func<IEnumerable<MetricSample>> Collect)> _families = [];

    public void Register(string name, string type, string help, Func<IEnumerable<MetricSample>> collect)
    {
        if (type is not ("counter" or "gauge")) throw new ArgumentException("counter or gauge", nameof(type));
        lock (_gate)
        {
            if (_families.Exists(f => f.Name == name)) throw new InvalidOperationException($"metric {name} is registered twice");
            _families.Add((name, type, help, collect));
        }
    }

    /// <summary>A family with one unlabelled sample.</summary>
    public void Register(string name, string type, string help, Func<double> value) =>
        Register(name, type, help, () => [new MetricSample(value())]);

    public string Render()
    {
        (string Name, string Type, string Help, Func<IEnumerable<MetricSample>> Collect)[] families;
        lock (_gate) families = [.. _families];
        var sb = new StringBuilder(4096);
        foreach (var f in families)
        {
            sb.Append("# HELP ").Append(f.Name).Append(' ').Append(f.Help.Replace("\\", "\\\\").Replace("\n", "\\n")).Append('\n');
            sb.Append("# TYPE ").Append(f.Name).Append(' ').Append(f.Type).Append('\n');
            foreach (var s in f.Collect())
            {
                sb.Append(f.Name);
                if (s.Labels.Length > 0)
                {
                    sb.Append('{');
                    for (int i = 0; i < s.Labels.Length; i++)
                    {
                        if (i > 0) sb.Append(',');
                        sb.Append(s.Labels[i].Name).Append("=\"")
                          .Append(s.Labels[i].Value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n")).Append('"');
                    }
                    sb.Append('}');
                }
                sb.Append(' ').Append(s.Value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            }
        }
        return sb.ToString();
    }
}
