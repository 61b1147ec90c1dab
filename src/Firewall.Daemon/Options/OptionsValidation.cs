using Firewall.Core.Conntrack;
using Firewall.Core.Rules.Config;
using Microsoft.Extensions.Options;

namespace Firewall.Daemon.Options;

/// <summary>Validators whose failures name the configuration key, for ValidateOnStart.</summary>
public sealed class ConntrackOptionsValidator : IValidateOptions<ConntrackOptions>
{
    public ValidateOptionsResult Validate(string? name, ConntrackOptions options)
    {
        var errors = options.Validate("Firewall:Conntrack");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

public sealed class DataPathOptionsValidator : IValidateOptions<DataPathOptions>
{
    public ValidateOptionsResult Validate(string? name, DataPathOptions options)
    {
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

public sealed class RulesOptionsValidator : IValidateOptions<FirewallRulesOptions>
{
    public ValidateOptionsResult Validate(string? name, FirewallRulesOptions options)
    {
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>Validates a section with its own Validate method (each failure names its key).</summary>
public sealed class SectionValidator<T>(Func<T, List<string>> validate) : IValidateOptions<T> where T : class
{
    public ValidateOptionsResult Validate(string? name, T options)
    {
        var errors = validate(options);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
