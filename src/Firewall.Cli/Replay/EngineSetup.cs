using Firewall.Core.Conntrack;
using Firewall.Core.Rules;
using Firewall.Core.Rules.Config;
using Firewall.Core.Rules.IptablesSave;
using Microsoft.Extensions.Configuration;

namespace Firewall.Cli.Replay;

/// <summary>Builds the engine's configuration for offline tools from files: appsettings JSON and iptables-save files.</summary>
public static class EngineSetup
{
    /// <summary>Reads an appsettings JSON file (null when there is none or it failed: the error is added).</summary>
    public static IConfiguration? LoadConfiguration(string? configFile, List<string> errors)
    {
        if (configFile is null) return null;
        try
        {
            return new ConfigurationBuilder().AddJsonFile(Path.GetFullPath(configFile), optional: false).Build();
        }
        catch (Exception e) when (e is FileNotFoundException or InvalidDataException or FormatException or IOException)
        {
            errors.Add($"{configFile}: {e.Message}");
            return null;
        }
    }

    /// <summary>Conntrack tunables from the Firewall:Conntrack section (kernel defaults otherwise).</summary>
    public static ConntrackOptions LoadConntrackOptions(IConfiguration? cfg, string? configFile, List<string> errors)
    {
        var o = new ConntrackOptions();
        if (cfg is null) return o;
        try
        {
            cfg.GetSection("Firewall:Conntrack").Bind(o);
        }
        catch (InvalidOperationException e)
        {
            errors.Add($"{configFile}: Firewall:Conntrack: {e.Message}");
            return o;
        }
        foreach (var msg in o.Validate("Firewall:Conntrack")) errors.Add($"{configFile}: {msg}");
        return o;
    }

    /// <summary>
    /// The rule set: the Firewall:Rules section of the configuration (if any) plus the given iptables-save files
    /// (appended to its IptablesSaveFiles). With neither: a rule set that accepts everything.
    /// </summary>
    public static RuleSet? LoadRules(IConfiguration? cfg, string? configFile, IReadOnlyList<string> files, List<string> errors)
    {
        var options = new FirewallRulesOptions();
        if (cfg is not null)
        {
            try { cfg.GetSection(FirewallRulesOptions.SectionPath).Bind(options); }
            catch (InvalidOperationException e)
            {
                errors.Add($"{configFile}: {FirewallRulesOptions.SectionPath}: {e.Message}");
                return null;
            }
        }
        foreach (var f in files)
        {
            string text;
            try { text = File.ReadAllText(f); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                errors.Add($"{f}: {e.Message}");
                continue;
            }
            options.IptablesSaveFiles.Add(new IptablesSaveFileOptions { Path = f, Family = FamilyHint(text, f) == 6 ? "IPv6" : "IPv4" });
        }
        if (errors.Count > 0) return null;
        var rs = RulesConfigCompiler.Compile(options, File.ReadAllText, null, out var compileErrors);
        if (rs is null)
            foreach (var e in compileErrors) errors.Add(configFile is not null && e.StartsWith(FirewallRulesOptions.SectionPath, StringComparison.Ordinal) ? $"{configFile}: {e}" : e);
        return rs;
    }

    /// <summary>
    /// The family of a save file: the tool named in its header comment (ip6tables-save / iptables-save), else the file
    /// name (rules.v6, ip6tables…), else what its contents show; a file with no hint at all is IPv4, as iptables-save means.
    /// </summary>
    public static byte FamilyHint(string text, string file)
    {
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (!line.StartsWith('#')) continue;
            if (line.Contains("ip6tables-save", StringComparison.Ordinal) || line.Contains("ip6tables-restore", StringComparison.Ordinal)) return 6;
            if (line.Contains("iptables-save", StringComparison.Ordinal)) return 4;
        }
        string name = Path.GetFileName(file).ToLowerInvariant();
        if (name.Contains("v6") || name.Contains("ip6") || name.Contains("ipv6")) return 6;
        if (name.Contains("v4") || name.Contains("ipv4")) return 4;
        byte sniffed = IptablesSaveParser.SniffFamily(text.Split('\n'), file, out _);
        return sniffed != 0 ? sniffed : (byte)4;
    }
}
