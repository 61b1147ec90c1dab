using System.Text.Json;
using System.Text.Json.Serialization;
using Firewall.Core.Conntrack;

namespace Firewall.Core.Control;

/// <summary>
/// The daemon's control socket protocol. The client sends one request: a JSON object on one line. The daemon answers
/// with lines, each starting with a channel letter and a space: <c>O</c> a line for standard output, <c>E</c> a line for
/// standard error, and last <c>X</c> with the exit code. Long-running commands (events) stream <c>O</c> lines until the
/// client disconnects.
/// </summary>
public static class ControlProtocol
{
    public const string DefaultSocketPath = "/run/firewall-daemon/control.sock";
    public const int MaxRequestBytes = 64 * 1024;
    public const char Stdout = 'O';
    public const char Stderr = 'E';
    public const char Exit = 'X';

    /// <summary>The program name the summaries carry, as conntrack's "conntrack v1.4.7 (conntrack-tools):".</summary>
    public const string Banner = "fwctl (firewall-daemon)";

    private static readonly JsonSerializerOptions s_json = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
    };

    public static string Serialize(ControlRequest request) => JsonSerializer.Serialize(request, s_json);

    public static ControlRequest? Deserialize(string line) => JsonSerializer.Deserialize<ControlRequest>(line, s_json);

    /// <summary>Escapes nothing: a payload line never contains a newline (callers split multi-line text).</summary>
    public static string Line(char channel, string text) => string.Concat(channel.ToString(), " ", text);
}

/// <summary>Commands the daemon understands.</summary>
public static class ControlCommands
{
    public const string ConntrackList = "conntrack.list";
    public const string ExpectList = "conntrack.expect";
    public const string ConntrackStats = "conntrack.stats";
    public const string ConntrackCount = "conntrack.count";
    public const string ConntrackFlush = "conntrack.flush";
    public const string ConntrackDelete = "conntrack.delete";
    public const string ConntrackEvents = "conntrack.events";
    public const string Rules = "rules";
    public const string Status = "status";
    public const string Reload = "reload";
}

/// <summary>One request on the control socket.</summary>
public sealed class ControlRequest
{
    public string Command { get; set; } = "";
    public ConntrackFilter? Filter { get; set; }
    /// <summary>Listing format: "default" (conntrack -L), "extended" (-o extended), "proc" (/proc/net/nf_conntrack).</summary>
    public string? Format { get; set; }
    /// <summary>Rules: 4 or 6.</summary>
    public int? Family { get; set; }
    /// <summary>Rules: filter or raw.</summary>
    public string? Table { get; set; }
    /// <summary>Rules: iptables-save form.</summary>
    public bool Save { get; set; }
    /// <summary>Rules --save: with [packets:bytes] counters.</summary>
    public bool Counters { get; set; }
}
