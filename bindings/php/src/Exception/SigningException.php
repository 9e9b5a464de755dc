<?php

declare(strict_types=1);

namespace GoldPlan\Exception;

class SigningException extends GoldPlanException
{
}
