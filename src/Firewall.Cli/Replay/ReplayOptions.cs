namespace Firewall.Cli.Replay;

public sealed class ReplayOptions
{
    public required string Capture { get; init; }
    public string[] RuleFiles { get; init; } = [];
    public string? ConfigFile { get; init; }
    public string Chain { get; init; } = "FORWARD";
    public string Format { get; init; } = "text";
    public string? WriteAccepted { get; init; }
}
