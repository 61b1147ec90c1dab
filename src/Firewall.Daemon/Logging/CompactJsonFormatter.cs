using System.Globalization;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Json;

namespace Firewall.Daemon.Logging;

/// <summary>
/// One JSON object per line, CLEF-like: <c>@t</c> time (UTC, ISO 8601), <c>@l</c> level, <c>@e</c> the event's stable name
/// (the first word of its template, e.g. <c>ConfigReloaded</c>), <c>@mt</c> the template, <c>@m</c> the rendered message,
/// <c>@x</c> an exception, then every property by name. Under systemd (<c>$JOURNAL_STREAM</c> set) each line starts with
/// the syslog priority prefix <c>&lt;N&gt;</c> that journald turns into PRIORITY= and strips.
/// </summary>
public sealed class CompactJsonFormatter : ITextFormatter
{
    private static readonly JsonValueFormatter s_values = new(typeTagName: "$type");
    private readonly bool _syslogPrefix;

    public CompactJsonFormatter() : this(!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("JOURNAL_STREAM"))) { }

    public CompactJsonFormatter(bool syslogPrefix) { _syslogPrefix = syslogPrefix; }

    /// <summary>syslog(3) priority for a Serilog level.</summary>
    public static int SyslogLevel(LogEventLevel level) => level switch
    {
        LogEventLevel.Fatal => 2,
        LogEventLevel.Error => 3,
        LogEventLevel.Warning => 4,
        LogEventLevel.Information => 6,
        _ => 7,
    };

    /// <summary>The stable event name: the template's first word.</summary>
    public static string EventName(string template)
    {
        int end = 0;
        while (end < template.Length && (char.IsLetterOrDigit(template[end]) || template[end] == '.')) end++;
        return end == 0 ? "Message" : template[..end];
    }

    public void Format(LogEvent e, TextWriter output)
    {
        if (_syslogPrefix) output.Write(string.Create(CultureInfo.InvariantCulture, $"<{SyslogLevel(e.Level)}>"));
        output.Write("{\"@t\":\"");
        output.Write(e.Timestamp.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        output.Write("\",\"@l\":\"");
        output.Write(e.Level.ToString());
        output.Write("\",\"@e\":");
        JsonValueFormatter.WriteQuotedJsonString(EventName(e.MessageTemplate.Text), output);
        output.Write(",\"@mt\":");
        JsonValueFormatter.WriteQuotedJsonString(e.MessageTemplate.Text, output);
        output.Write(",\"@m\":");
        JsonValueFormatter.WriteQuotedJsonString(e.MessageTemplate.Render(e.Properties, CultureInfo.InvariantCulture), output);
        if (e.Exception is not null)
        {
            output.Write(",\"@x\":");
            JsonValueFormatter.WriteQuotedJsonString(e.Exception.ToString(), output);
        }
        foreach (var (name, value) in e.Properties)
        {
            output.Write(',');
            JsonValueFormatter.WriteQuotedJsonString(name.Length > 0 && name[0] == '@' ? "@" + name : name, output);
            output.Write(':');
            s_values.Format(value, output);
        }
        output.Write('}');
        output.Write('\n');
    }
}
